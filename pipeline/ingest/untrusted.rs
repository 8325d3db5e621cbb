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
            if FENCED.with(Cell::get) {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                WHERE.with(|w| *w.borrow_mut() = Some(at));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside comes back as `Err` with its message.
pub fn fenced<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let outer = FENCED.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    FENCED.with(|c| c.set(outer));
    result.map_err(|payload| {
        let at = WHERE.with(|w| w.borrow_mut().take()).unwrap_or_default();
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

    #[test]
    fn a_panic_inside_becomes_an_error_and_the_fence_is_left_after() {
        assert_eq!(fenced(|| 7), Ok(7));
        let caught = fenced(|| -> u8 { panic!("Type {} not supported", 42) });
        assert_eq!(caught, Err("Type 42 not supported".to_string()));
        assert!(!FENCED.with(Cell::get), "the thread is outside the fence again");
    }

    #[tokio::test]
    async fn a_future_that_panics_while_polled_becomes_an_error() {
        let panicking = async {
            tokio::task::yield_now().await;
            let none: Option<u8> = std::hint::black_box(None);
            none.expect("damaged")
        };
        assert_eq!(fenced_future(panicking).await, Err("damaged".to_string()));
    }
}
