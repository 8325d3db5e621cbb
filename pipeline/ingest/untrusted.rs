//! A fence around third-party code reading untrusted bytes (the Parquet and
//! Arrow readers panic on some damaged files instead of returning an error):
//! a panic inside becomes an error the caller names the file in, and is not
//! printed as a crash. Panics anywhere else are left to the default hook.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

thread_local! {
    /// Whether this thread is inside `fenced` (the hook stays quiet).
    static FENCED: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic happened, for the debug log.
    static WHERE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Wraps the process's panic hook once: quiet on a fenced thread, the
/// previous hook everywhere else.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let fenced = FENCED.with(Cell::get);
            if !fenced || is_own_code(&at) {
                previous(info);
            }
            if fenced {
                WHERE.with(|w| *w.borrow_mut() = Some(at));
            }
        }));
    });
}

/// reestr's own source files are compiled with paths relative to the
/// package (`pipeline/…`); the readers' with absolute ones.
fn is_own_code(at: &str) -> bool {
    at.starts_with("pipeline/")
}

/// Runs `f`; a panic of the readers inside comes back as `Err` with its
/// message. A panic in reestr's own code is a bug, not damage: it goes on
/// unwinding (and is printed), so it is never reported as a bad file.
pub fn fenced<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let outer = FENCED.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    FENCED.with(|c| c.set(outer));
    result.map_err(|payload| {
        let at = WHERE.with(|w| w.borrow_mut().take()).unwrap_or_default();
        if is_own_code(&at) {
            std::panic::resume_unwind(payload);
        }
        let message = panic_message(payload.as_ref());
        tracing::debug!("the reader panicked at {at}: {message}");
        message
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}

/// A future polled inside the fence: each poll runs on whichever thread
/// polls it, so each poll is fenced on its own.
pub struct Fenced<F>(Pin<Box<F>>);

pub fn fenced_future<F: Future>(future: F) -> Fenced<F> {
    Fenced(Box::pin(future))
}

impl<F: Future> Future for Fenced<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match fenced(move || inner.poll(cx)) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(message) => Poll::Ready(Err(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside a dependency (Arrow's bounds check, located in Arrow's
    /// source, not under `pipeline/`), as the readers' are.
    fn reader_panic() -> i32 {
        let array = arrow::array::Int32Array::from(vec![1]);
        array.value(std::hint::black_box(5))
    }

    #[test]
    fn a_panic_inside_becomes_an_error_and_the_fence_is_left_after() {
        assert_eq!(fenced(|| 7), Ok(7));
        let caught = fenced(reader_panic);
        assert!(caught.as_ref().is_err_and(|m| m.contains("Trying to access")), "{caught:?}");
        assert!(!FENCED.with(Cell::get), "the thread is outside the fence again");
    }

    #[test]
    fn a_panic_in_reestrs_own_code_goes_on_unwinding() {
        let outcome = catch_unwind(|| fenced(|| -> u8 { panic!("a bug of ours") }));
        assert!(outcome.is_err(), "not turned into a bad-file error");
        assert!(!FENCED.with(Cell::get));
    }

    #[tokio::test]
    async fn a_future_that_panics_while_polled_becomes_an_error() {
        let panicking = async {
            tokio::task::yield_now().await;
            reader_panic()
        };
        assert!(fenced_future(panicking).await.is_err_and(|m| m.contains("Trying to access")));
    }
}
