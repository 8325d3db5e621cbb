//! Notifications on a change of state: a night that fails or is held after a
//! good one, and the first good night after a bad one. `[notify]` in
//! `reestr.toml` names a webhook (POSTed a small JSON) and/or a command (run
//! with the same JSON on stdin), so mail, Telegram or a chat bot can be wired
//! without reestr knowing them. Secrets come only from the environment: a
//! webhook URL with credentials in it is refused in the file. A notification
//! that cannot be delivered is logged and never fails the run.

use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use url::Url;

use super::history::{Attempt, RunLog, Status};
use crate::warehouse::Location;

/// Seconds a webhook or command may take before it is given up (or killed).
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

/// `[notify]` as written in `reestr.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    /// POSTed the JSON. No secrets: those go in the environment.
    webhook: Option<String>,
    /// A program and its arguments (an argv list, no shell), run with the
    /// JSON on stdin. A shell pipeline is `["sh", "-c", "…"]`.
    command: Option<Vec<String>>,
    /// The site's address, sent as the notification's link.
    site_url: Option<String>,
    timeout_seconds: Option<u64>,
}

/// Text kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// Where the JSON is POSTed. The URL itself may hold a token (when it came
/// from the environment), so only its origin is ever shown.
#[derive(Clone)]
pub struct Webhook {
    url: Url,
    token: Option<Secret>,
}

impl Webhook {
    /// `scheme://host:port`, what logs say of the webhook.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook").field("origin", &self.origin()).field("token", &self.token).finish()
    }
}

/// The notification settings: the file's `[notify]` with the environment
/// applied over it. Neither webhook nor command: nothing is sent.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub webhook: Option<Webhook>,
    pub command: Option<Vec<String>>,
    pub site_url: Option<String>,
    pub timeout: Duration,
}

impl Default for NotifySettings {
    fn default() -> NotifySettings {
        NotifySettings {
            webhook: None,
            command: None,
            site_url: None,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

impl NotifySettings {
    /// `file` (the `[notify]` table, when there is one) with the
    /// `REESTR_NOTIFY_*` variables applied over it. The error is the detail
    /// of a configuration error; it never repeats a secret.
    pub fn load(file: Option<NotifyFile>) -> Result<NotifySettings, String> {
        Self::load_with(file, |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    fn load_with(file: Option<NotifyFile>, env: impl Fn(&str) -> Option<String>) -> Result<NotifySettings, String> {
        let file = file.unwrap_or_default();
        let url = match (env("REESTR_NOTIFY_WEBHOOK"), file.webhook) {
            // The environment may carry a URL with a token in it: it is not a file.
            (Some(url), _) => Some(parse_http_url(&url).map_err(|e| format!("REESTR_NOTIFY_WEBHOOK {e}"))?),
            (None, Some(url)) => Some(file_webhook(&url)?),
            (None, None) => None,
        };
        let token = env("REESTR_NOTIFY_TOKEN").map(|t| t.trim().to_string());
        if let Some(token) = &token
            && reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).is_err()
        {
            return Err("REESTR_NOTIFY_TOKEN holds characters an HTTP header cannot carry".into());
        }
        let webhook = url.map(|url| Webhook { url, token: token.map(Secret) });
        // One variable is one string: the command from the environment is a shell line.
        let command = match env("REESTR_NOTIFY_COMMAND") {
            Some(line) => Some(vec!["sh".to_string(), "-c".to_string(), line]),
            None => file.command,
        };
        if command.as_ref().is_some_and(|c| c.first().is_none_or(|p| p.trim().is_empty())) {
            return Err("[notify] command is empty: give the program and its arguments, e.g. [\"/usr/local/bin/reestr-notify\"]".into());
        }
        let site_url = env("REESTR_NOTIFY_SITE_URL").or(file.site_url);
        if let Some(site) = &site_url {
            // Sent to whoever reads the notification: no credentials in it.
            let url = Url::parse(site).map_err(|e| format!("[notify] site_url is not a URL ({e})"))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err("[notify] site_url carries a user name or password; the link is sent as it is, \
                            so give the site's plain address"
                    .into());
            }
        }
        let timeout = match env("REESTR_NOTIFY_TIMEOUT_SECONDS") {
            Some(s) => {
                s.parse().map_err(|_| format!("REESTR_NOTIFY_TIMEOUT_SECONDS is not a number of seconds: {s}"))?
            }
            None => file.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        };
        if !(1..=600).contains(&timeout) {
            return Err(format!("[notify] timeout_seconds is {timeout}; give 1 to 600 seconds"));
        }
        Ok(NotifySettings { webhook, command, site_url, timeout: Duration::from_secs(timeout) })
    }

    /// Whether anything is to be sent.
    pub fn is_set(&self) -> bool {
        self.webhook.is_some() || self.command.is_some()
    }
}

fn parse_http_url(text: &str) -> Result<Url, String> {
    // The parser's message only: the text may hold a token.
    let url = Url::parse(text.trim()).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("is not an http:// or https:// URL".into());
    }
    Ok(url)
}

/// A webhook URL from the file: one that carries a credential is refused,
/// without repeating it, with the way to give it instead.
fn file_webhook(text: &str) -> Result<Url, String> {
    let url = parse_http_url(text).map_err(|e| format!("[notify] webhook {e}"))?;
    let fix = "put the URL in the REESTR_NOTIFY_WEBHOOK environment variable (or the token in REESTR_NOTIFY_TOKEN, \
               sent as `Authorization: Bearer`) and leave it out of the file";
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("[notify] webhook carries a user name or password: {fix}"));
    }
    if let Some((name, _)) = url.query_pairs().find(|(name, _)| looks_secret(name)) {
        return Err(format!("[notify] webhook has a `{name}` parameter, which looks like a secret: {fix}"));
    }
    if url.path_segments().into_iter().flatten().any(looks_like_a_key) {
        return Err(format!("[notify] webhook's path holds what looks like a key: {fix}"));
    }
    Ok(url)
}

/// A query parameter whose name says it is a credential.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["token", "key", "secret", "pass", "pwd", "sig", "auth", "code", "credential", "session"]
        .iter()
        .any(|word| name.contains(word))
}

/// A path segment shaped like a generated key (Slack, Discord and Teams
/// webhook URLs carry theirs in the path): long, of key characters only,
/// with letters and digits mixed. A safety net, not a guarantee.
fn looks_like_a_key(segment: &str) -> bool {
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let letters = segment.chars().filter(char::is_ascii_alphabetic).count();
    segment.len() >= 20
        && segment.chars().all(|c| c.is_ascii_alphanumeric() || "_-:+=~.".contains(c))
        && digits >= 2
        && letters >= 2
}

/// How a night ended, as a notification sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NightStatus {
    Ok,
    Held,
    Failed,
}

impl NightStatus {
    /// As in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            NightStatus::Ok => "ok",
            NightStatus::Held => "held",
            NightStatus::Failed => "failed",
        }
    }
}

/// A night's state: the latest attempt at a snapshot date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NightState {
    Ok,
    /// The gate held the snapshot: `rule` fired, `message` gives its figures.
    Held {
        rule: String,
        message: String,
    },
    Failed {
        message: String,
    },
}

impl NightState {
    /// The one place a run-log attempt becomes a night's state: a held one
    /// with the gate's worst rule and its summary. A stopped attempt says
    /// nothing of the snapshot: the next run retries it.
    pub fn of(attempt: &Attempt) -> Option<NightState> {
        match attempt.status {
            Status::Ok => Some(NightState::Ok),
            Status::Failed => Some(NightState::Failed { message: attempt.error.clone().unwrap_or_default() }),
            Status::Held => {
                let verdict = attempt.gate.as_ref();
                let rule = verdict.and_then(|v| v.rules.first()).map(|r| r.figures.rule.clone()).unwrap_or_default();
                Some(NightState::Held { rule, message: verdict.map(|v| v.summary.clone()).unwrap_or_default() })
            }
            // A stopped attempt, or an acceptance (a decision about a held
            // night, not a night): the state stays what it was.
            Status::Interrupted | Status::Accepted => None,
        }
    }

    pub fn status(&self) -> NightStatus {
        match self {
            NightState::Ok => NightStatus::Ok,
            NightState::Held { .. } => NightStatus::Held,
            NightState::Failed { .. } => NightStatus::Failed,
        }
    }
}

/// Whether a night in state `now` after one in state `previous` is told:
/// only when the status changes (good → failed or held, failed or held →
/// good, and held ↔ failed, a different problem asking for a different
/// action). Ok → ok is silent, and so is failed → failed and held → held
/// (whatever the rule). A warehouse's first night counts as following a
/// good one: a first night that fails is told, a first good one is not.
pub fn notification(previous: Option<&NightState>, now: &NightState) -> bool {
    previous.map_or(NightStatus::Ok, NightState::status) != now.status()
}

/// The state an attempt at `as_of` follows, from the run log before it: the
/// latest earlier attempt at the same date (a retry follows its own last
/// try, so a snapshot failing night after night is told once), else the
/// latest attempt at the nearest earlier date. Stopped attempts are skipped.
pub fn previous_state(log: &RunLog, as_of: NaiveDate) -> Option<NightState> {
    // Newest first (the log is in start order), so the first of equals is the latest try.
    let states = || log.attempts.iter().rev().filter_map(|a| NightState::of(a).map(|s| (a, s)));
    let same_date = states().find(|(a, _)| a.as_of == as_of);
    same_date
        .or_else(|| states().filter(|(a, _)| a.as_of < as_of).min_by_key(|(a, _)| std::cmp::Reverse(a.as_of)))
        .map(|(_, s)| s)
}

/// What is sent, as JSON: no personal data (errors and the gate's messages
/// name files, rules and counts, never a person's values).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub as_of: NaiveDate,
    pub status: NightStatus,
    /// The status this night follows; null on a warehouse's first night.
    pub previous_status: Option<NightStatus>,
    /// The gate's rule that held the snapshot; null unless held.
    pub rule: Option<String>,
    pub message: String,
    /// The site (`site_url`), when configured.
    pub link: Option<String>,
    pub warehouse: String,
    pub engine_version: String,
}

impl Notification {
    pub fn new(
        as_of: NaiveDate,
        now: &NightState,
        previous: Option<&NightState>,
        warehouse: &str,
        link: Option<&str>,
    ) -> Notification {
        let (rule, message) = match now {
            NightState::Ok => (
                None,
                format!(
                    "snapshot {as_of} processed: the nightly run is good again after a {} night",
                    previous.map_or("bad", |p| status_word(p.status()))
                ),
            ),
            NightState::Held { rule, message } => {
                (Some(rule.clone()), format!("snapshot {as_of} held, not published ({rule}): {message}"))
            }
            NightState::Failed { message } => (None, format!("snapshot {as_of} failed: {message}")),
        };
        Notification {
            as_of,
            status: now.status(),
            previous_status: previous.map(NightState::status),
            rule,
            message,
            link: link.map(str::to_string),
            warehouse: warehouse.to_string(),
            engine_version: crate::VERSION.to_string(),
        }
    }
}

fn status_word(status: NightStatus) -> &'static str {
    match status {
        NightStatus::Ok => "good",
        NightStatus::Held => "held",
        NightStatus::Failed => "failed",
    }
}

/// Sends a command's notifications: told of every attempt as it is logged,
/// it keeps the run log in memory (read once) to know what each follows.
#[derive(Debug)]
pub struct Notifier {
    settings: NotifySettings,
    warehouse: String,
    log: tokio::sync::Mutex<Option<RunLog>>,
}

impl Notifier {
    /// A notifier for `warehouse` (its name goes into the JSON); `None` when
    /// nothing is configured.
    pub fn new(settings: NotifySettings, warehouse: &str) -> Option<Notifier> {
        settings.is_set().then(|| Notifier {
            settings,
            warehouse: warehouse.to_string(),
            log: tokio::sync::Mutex::new(None),
        })
    }

    /// Reads the run log, once, before the first attempt is logged. A log
    /// that cannot be read counts as empty (a notification is not worth a
    /// failed run).
    pub async fn read_log(&self, warehouse: &Location) {
        let mut log = self.log.lock().await;
        if log.is_none() {
            *log = Some(RunLog::read(warehouse).await.unwrap_or_else(|e| {
                warn!("cannot read the run log for notifications ({e}); taking this as the first night");
                RunLog::default()
            }));
        }
    }

    /// Told once `attempt` is in the run log: sends a notification when its
    /// state differs from the one it follows.
    pub async fn attempt_logged(&self, attempt: &Attempt) {
        let Some(now) = NightState::of(attempt) else { return };
        let previous = {
            let mut log = self.log.lock().await;
            let log = log.get_or_insert_with(RunLog::default);
            let previous = previous_state(log, attempt.as_of);
            log.attempts.push(attempt.clone());
            previous
        };
        if !notification(previous.as_ref(), &now) {
            return;
        }
        let payload = Notification::new(
            attempt.as_of,
            &now,
            previous.as_ref(),
            &self.warehouse,
            self.settings.site_url.as_deref(),
        );
        self.send(&payload).await;
    }

    /// Delivers `payload` to the webhook and the command; a failure is
    /// logged, never returned.
    pub async fn send(&self, payload: &Notification) {
        let body = match serde_json::to_vec(payload) {
            Ok(body) => body,
            Err(e) => return warn!("cannot write the notification of {}: {e}", payload.as_of),
        };
        let what = format!("the {} notification of {}", payload.status.name(), payload.as_of);
        if let Some(hook) = &self.settings.webhook {
            match post(hook, body.clone(), self.settings.timeout).await {
                Ok(()) => info!("sent {what} to the webhook at {}", hook.origin()),
                Err(e) => warn!("cannot deliver {what} to the webhook at {}: {e}; the run goes on", hook.origin()),
            }
        }
        if let Some(argv) = &self.settings.command {
            let (argv, timeout) = (argv.clone(), self.settings.timeout);
            let program = argv[0].clone();
            let outcome = tokio::task::spawn_blocking(move || run_command(&argv, &body, timeout))
                .await
                .unwrap_or_else(|e| Err(format!("the command's task ended: {e}")));
            match outcome {
                Ok(()) => info!("sent {what} to {program}"),
                Err(e) => warn!("cannot deliver {what} to {program}: {e}; the run goes on"),
            }
        }
    }
}

/// POSTs `body` as JSON; an answer other than 2xx is a failure. Redirects
/// are not followed: the token goes only where it was configured to.
async fn post(hook: &Webhook, body: Vec<u8>, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("reestr/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| error_chain(&e.without_url()))?;
    let mut request =
        client.post(hook.url.clone()).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    if let Some(Secret(token)) = &hook.token {
        request = request.bearer_auth(token);
    }
    // `without_url`: the URL may hold a token.
    let response = request.send().await.map_err(|e| error_chain(&e.without_url()))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(format!("the server answered {status}")) }
}

/// An error and its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Runs `argv` with `body` on stdin; its output goes to reestr's stderr (so
/// a report on stdout stays clean). A command still running after `timeout`
/// is killed, with whatever it started.
fn run_command(argv: &[String], body: &[u8], timeout: Duration) -> Result<(), String> {
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).stdin(Stdio::piped()).stdout(stderr_or_null()).stderr(Stdio::inherit());
    // The webhook's secrets are reestr's, not the command's: it gets the JSON.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("REESTR_NOTIFY_")) {
            command.env_remove(key);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so a timeout kills what it started too.
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| format!("cannot start it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // From a thread: a command that does not read its input must not hold the run.
        let body = body.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                kill(&mut child);
                return Err(format!("it did not finish within {} s and was stopped", timeout.as_secs()));
            }
            Err(e) => {
                kill(&mut child);
                return Err(format!("cannot wait for it: {e}"));
            }
        }
    };
    if status.success() { Ok(()) } else { Err(format!("it ended with {status}")) }
}

fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the process group this function created; no memory is touched.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn stderr_or_null() -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            return Stdio::from(fd);
        }
    }
    Stdio::null()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn held() -> NightState {
        NightState::Held { rule: "members_national".into(), message: "members fell".into() }
    }

    fn failed() -> NightState {
        NightState::Failed { message: "bad header".into() }
    }

    #[test]
    fn only_a_change_of_state_is_told() {
        use NightState::Ok;
        let cases: [(Option<NightState>, NightState, bool); 12] = [
            (None, Ok, false), // a first good night: nothing to say
            (None, failed(), true),
            (None, held(), true),
            (Some(Ok), Ok, false),
            (Some(Ok), failed(), true),
            (Some(Ok), held(), true),
            (Some(failed()), Ok, true),
            (Some(held()), Ok, true),
            (Some(failed()), failed(), false),
            (Some(held()), held(), false),
            (Some(held()), failed(), true),
            (Some(failed()), held(), true),
        ];
        for (previous, now, told) in cases {
            assert_eq!(notification(previous.as_ref(), &now), told, "{previous:?} → {now:?}");
        }
        let other_rule = NightState::Held { rule: "rejects".into(), message: "x".into() };
        assert!(!notification(Some(&held()), &other_rule), "held → held under another rule is still held");
    }

    fn attempt(day: u32, minute: u32, status: Status) -> Attempt {
        Attempt {
            as_of: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            snapshot: format!("inbox/2026-11-{day:02}"),
            started: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 0).unwrap(),
            finished: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 30).unwrap(),
            status,
            error: (status == Status::Failed).then(|| format!("bad file on day {day}")),
            engine_version: "test".into(),
            gate: None,
            accepted: None,
        }
    }

    #[test]
    fn the_previous_state_is_the_dates_last_try_or_the_night_before() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let log = RunLog {
            attempts: vec![
                attempt(1, 0, Status::Ok),
                attempt(2, 1, Status::Failed),
                attempt(3, 2, Status::Ok),
                attempt(2, 3, Status::Interrupted), // a stopped retry says nothing
                attempt(4, 4, Status::Interrupted),
            ],
        };
        assert_eq!(previous_state(&log, day(1)), Some(NightState::Ok), "a rerun follows its own last try");
        assert!(matches!(previous_state(&log, day(2)), Some(NightState::Failed { .. })), "a retry of a failing date");
        assert_eq!(
            previous_state(&log, day(4)),
            Some(NightState::Ok),
            "the night before (3), stopped attempts skipped"
        );
        assert_eq!(previous_state(&log, day(5)), Some(NightState::Ok));
        let failed_last = RunLog { attempts: vec![attempt(1, 0, Status::Ok), attempt(2, 1, Status::Failed)] };
        assert!(matches!(previous_state(&failed_last, day(3)), Some(NightState::Failed { .. })));
        // The nearest earlier date's latest try counts, not its first.
        let fixed = RunLog { attempts: vec![attempt(2, 1, Status::Failed), attempt(2, 5, Status::Ok)] };
        assert_eq!(previous_state(&fixed, day(3)), Some(NightState::Ok));
        let broke = RunLog { attempts: vec![attempt(2, 1, Status::Ok), attempt(2, 5, Status::Failed)] };
        assert!(matches!(previous_state(&broke, day(3)), Some(NightState::Failed { .. })));
        assert_eq!(previous_state(&log, NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()), None, "the first night");
        assert_eq!(previous_state(&RunLog::default(), day(1)), None);
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn file(webhook: &str) -> Option<NotifyFile> {
        Some(NotifyFile { webhook: Some(webhook.into()), ..NotifyFile::default() })
    }

    #[test]
    fn a_webhook_with_credentials_in_the_file_is_refused_without_repeating_them() {
        for (url, says) in [
            ("https://bot:hunter2@chat.example.org/hook", "user name or password"),
            ("https://chat.example.org/hook?channel=ops&access_token=hunter2", "access_token"),
            ("https://chat.example.org/hook?apikey=hunter2", "apikey"),
            ("https://hooks.slack.com/services/T0001/B0001/hunter2XyZ0aB1cD2eF3gH4", "looks like a key"),
            (
                "https://example.webhook.office.com/webhookb2/6f1c2a3e-0b9d-4e51-8a7c-1d2e3f4a5b6c/IncomingWebhook",
                "key",
            ),
        ] {
            let err = NotifySettings::load_with(file(url), env(&[])).unwrap_err();
            assert!(err.contains(says) && err.contains("REESTR_NOTIFY_WEBHOOK"), "{url}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("6f1c2a3e"), "the secret is not repeated: {err}");
        }
        for url in ["ftp://chat.example.org/hook", "not a url", "https://"] {
            assert!(NotifySettings::load_with(file(url), env(&[])).is_err(), "{url}");
        }
    }

    #[test]
    fn a_plain_webhook_in_the_file_and_secrets_from_the_environment_are_taken() {
        let s = NotifySettings::load_with(file("https://chat.example.org/hooks/reestr?channel=ops"), env(&[])).unwrap();
        let hook = s.webhook.unwrap();
        assert_eq!(hook.origin(), "https://chat.example.org");
        assert!(hook.token.is_none());
        assert_eq!(s.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECONDS));

        // The environment's URL may carry a key; it wins over the file's, and
        // nothing shows it.
        let s = NotifySettings::load_with(
            file("https://chat.example.org/hooks/reestr"),
            env(&[
                ("REESTR_NOTIFY_WEBHOOK", "https://hooks.example.org/services/T0001/hunter2XyZ0aB1cD2eF3gH4?key=k"),
                ("REESTR_NOTIFY_TOKEN", "s3cr3t"),
                ("REESTR_NOTIFY_COMMAND", "mail -s reestr ops@example.org"),
                ("REESTR_NOTIFY_TIMEOUT_SECONDS", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(s.webhook.as_ref().unwrap().url.host_str(), Some("hooks.example.org"));
        assert_eq!(s.webhook.as_ref().unwrap().token, Some(Secret("s3cr3t".into())));
        assert_eq!(s.command.as_deref().unwrap(), ["sh", "-c", "mail -s reestr ops@example.org"]);
        assert_eq!(s.timeout, Duration::from_secs(3));
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cr3t"), "{shown}");

        assert!(!NotifySettings::load_with(None, env(&[])).unwrap().is_set(), "nothing configured");
        let bad = |vars: &[(&str, &str)]| NotifySettings::load_with(None, env(vars)).unwrap_err();
        assert!(
            bad(&[("REESTR_NOTIFY_WEBHOOK", "https://x.org/"), ("REESTR_NOTIFY_TOKEN", "a\nb")]).contains("header")
        );
        assert!(bad(&[("REESTR_NOTIFY_TIMEOUT_SECONDS", "0")]).contains("1 to 600"));
        let site = bad(&[("REESTR_NOTIFY_SITE_URL", "https://ops:hunter2@reestr.example.org/")]);
        assert!(site.contains("user name or password") && !site.contains("hunter2"), "{site}");
        let empty = Some(NotifyFile { command: Some(vec![]), ..NotifyFile::default() });
        assert!(NotifySettings::load_with(empty, env(&[])).unwrap_err().contains("command is empty"));
    }

    #[test]
    fn the_payload_names_the_state_and_what_it_follows() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let json = |n: &Notification| serde_json::to_value(n).unwrap();
        let v = json(&Notification::new(d, &held(), Some(&NightState::Ok), "s3://wh", Some("https://site/")));
        assert_eq!(v["as_of"], "2026-11-03");
        assert_eq!(v["status"], "held");
        assert_eq!(v["previous_status"], "ok");
        assert_eq!(v["rule"], "members_national");
        assert_eq!(v["link"], "https://site/");
        assert_eq!(v["warehouse"], "s3://wh");
        assert_eq!(v["engine_version"], crate::VERSION);
        assert!(v["message"].as_str().unwrap().contains("members fell"));
        let v = json(&Notification::new(d, &failed(), None, "wh", None));
        assert_eq!(
            (v["status"].as_str(), v["rule"].is_null(), v["previous_status"].is_null()),
            (Some("failed"), true, true)
        );
        assert!(v["link"].is_null());
        let v = json(&Notification::new(d, &NightState::Ok, Some(&failed()), "wh", None));
        assert_eq!(v["status"], "ok");
        assert!(v["message"].as_str().unwrap().contains("after a failed night"), "{v}");
    }

    #[test]
    fn a_command_gets_the_json_on_stdin_and_is_stopped_after_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got.json");
        let argv = ["sh".into(), "-c".into(), format!("cat > '{}'", out.display())];
        run_command(&argv, b"{\"status\":\"ok\"}", Duration::from_secs(5)).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"{\"status\":\"ok\"}");

        let err = run_command(&["false".into()], b"{}", Duration::from_secs(5)).unwrap_err();
        assert!(err.contains("ended with"), "{err}");
        assert!(run_command(&["/nonexistent/notify".into()], b"{}", Duration::from_secs(5)).is_err());

        // A command that hangs (and started a child that hangs too) is stopped.
        let started = Instant::now();
        let argv = ["sh".into(), "-c".into(), "sleep 30 & sleep 30".into()];
        let err = run_command(&argv, b"{}", Duration::from_secs(1)).unwrap_err();
        assert!(err.contains("did not finish within 1 s"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10), "stopped at its timeout");
    }
}
