//! `reestr.toml`, with every setting overridable from the environment
//! (`REESTR_INBOX`, `REESTR_WAREHOUSE`, `REESTR_SCHEDULE`, `REESTR_TIMEZONE`,
//! `REESTR_KEEP_DAYS`, `REESTR_BUNDLES`; `[notify]` from `REESTR_NOTIFY_*`, see `notify`).
//! Object-store credentials are never read from here: only the standard
//! `AWS_*` variables carry them; nor is a webhook's secret.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;

use super::NightlyError;
use super::gate::GateConfig;
use super::notify::{NotifyFile, NotifySettings};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    inbox: Option<String>,
    warehouse: Option<String>,
    schedule: Option<String>,
    timezone: Option<String>,
    keep_days: Option<u32>,
    bundles: Option<bool>,
    gate: Option<GateConfig>,
    notify: Option<NotifyFile>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Folder or `s3://` prefix holding `<YYYY-MM-DD>/` snapshot folders.
    pub inbox: String,
    pub warehouse: String,
    pub schedule: Cron,
    pub schedule_text: String,
    pub timezone: Tz,
    /// Registry partitions older than this many days before the newest
    /// snapshot are pruned; marts, manifests and the run log are kept.
    pub keep_days: u32,
    /// Whether publishing makes the districts' and regions' bundles
    /// (`bundles = false` saves their time and space).
    pub bundles: bool,
    /// When the nightly job holds a date instead of publishing it.
    pub gate: GateConfig,
    /// Whom to tell of a change of state (nobody when unset).
    pub notify: NotifySettings,
}

impl Config {
    /// Reads the file (when given) and applies the environment over it.
    pub fn load(path: Option<&Path>) -> Result<Config, NightlyError> {
        let bad = |detail: String| NightlyError::Config { file: path.map(|p| p.display().to_string()), detail };
        let mut file = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| bad(format!("cannot read it: {e}")))?;
                // The parser's message alone: its excerpt of the file could
                // show a secret someone put there by mistake.
                toml::from_str::<File>(&text).map_err(|e| {
                    let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
                    let hint = if e.message().contains("aws_") {
                        " (object-store credentials come only from the AWS_* environment variables)"
                    } else if ["token", "secret", "password"].iter().any(|w| e.message().contains(w)) {
                        " (a webhook's secret comes only from REESTR_NOTIFY_TOKEN or REESTR_NOTIFY_WEBHOOK)"
                    } else {
                        ""
                    };
                    bad(format!("{}{}{hint}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), e.message()))
                })?
            }
            None => File::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        file.inbox = env("REESTR_INBOX").or(file.inbox);
        file.warehouse = env("REESTR_WAREHOUSE").or(file.warehouse);
        file.schedule = env("REESTR_SCHEDULE").or(file.schedule);
        file.timezone = env("REESTR_TIMEZONE").or(file.timezone);
        if let Some(days) = env("REESTR_KEEP_DAYS") {
            file.keep_days =
                Some(days.parse().map_err(|_| bad(format!("REESTR_KEEP_DAYS is not a number of days: {days}")))?);
        }
        if let Some(flag) = env("REESTR_BUNDLES") {
            file.bundles = Some(match flag.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return Err(bad(format!("REESTR_BUNDLES is not true or false: {flag}"))),
            });
        }
        let inbox = file.inbox.ok_or_else(|| bad("`inbox` is not set (in the file or REESTR_INBOX)".into()))?;
        let warehouse =
            file.warehouse.ok_or_else(|| bad("`warehouse` is not set (in the file or REESTR_WAREHOUSE)".into()))?;
        let schedule_text = file.schedule.unwrap_or_else(|| "0 3 * * *".into());
        let schedule = Cron::from_str(&schedule_text)
            .map_err(|e| bad(format!("schedule \"{schedule_text}\" is not a cron expression: {e}")))?;
        let tz_text = file.timezone.unwrap_or_else(|| "Europe/Moscow".into());
        let timezone =
            Tz::from_str(&tz_text).map_err(|_| bad(format!("unknown time zone \"{tz_text}\" (e.g. Europe/Moscow)")))?;
        let gate = file.gate.unwrap_or_default();
        gate.check().map_err(bad)?;
        let notify = NotifySettings::load(file.notify).map_err(bad)?;
        Ok(Config {
            inbox,
            warehouse,
            schedule,
            schedule_text,
            timezone,
            keep_days: file.keep_days.unwrap_or(400),
            bundles: file.bundles.unwrap_or(true),
            gate,
            notify,
        })
    }

    /// The next firing strictly after `after`, in the configured time zone.
    pub fn next_run(&self, after: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<Tz>> {
        self.schedule.find_next_occurrence(&after.with_timezone(&self.timezone), false).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn config(schedule: &str, tz: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reestr.toml");
        std::fs::write(
            &path,
            format!(
                "inbox = \"/in\"\nwarehouse = \"/wh\"\nschedule = \"{schedule}\"\ntimezone = \"{tz}\"\nkeep_days = 30\n"
            ),
        )
        .unwrap();
        Config::load(Some(&path)).unwrap()
    }

    #[test]
    fn the_schedule_fires_in_its_time_zone() {
        let c = config("0 3 * * *", "Europe/Moscow");
        // 03:00 in Moscow (UTC+3) is 00:00 UTC.
        let next = c.next_run(Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()).unwrap();
        assert_eq!(next.with_timezone(&Utc), Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap());
        let c = config("30 2 * * 1-5", "Asia/Vladivostok");
        // Friday 27 November 2026, 02:30 in Vladivostok (UTC+10) = Thursday 16:30 UTC.
        let next = c.next_run(Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()).unwrap();
        assert_eq!(next.with_timezone(&Utc), Utc.with_ymd_and_hms(2026, 11, 26, 16, 30, 0).unwrap());
        assert_eq!(c.keep_days, 30);
    }

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reestr.toml");
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\nschedule = \"every night\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("every night") && err.contains("reestr.toml"), "{err}");
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\naws_secret_access_key = \"x\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("aws_secret_access_key") && !err.contains("\"x\""), "credentials are not settings: {err}");
        std::fs::write(
            &path,
            "inbox = \"/in\"\nwarehouse = \"/wh\"\n[notify]\nwebhook = \"https://h.org/\"\ntoken = \"x\"\n",
        )
        .unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(
            err.contains("REESTR_NOTIFY_TOKEN") && !err.contains("\"x\""),
            "a webhook secret is not a setting: {err}"
        );
    }

    #[test]
    fn the_gate_takes_its_defaults_for_keys_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reestr.toml");
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\n").unwrap();
        assert_eq!(Config::load(Some(&path)).unwrap().gate, GateConfig::default());
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\n[gate]\nmembers_drop_pct = 25\n").unwrap();
        let gate = Config::load(Some(&path)).unwrap().gate;
        assert_eq!(gate.members_drop_pct, 25.0);
        assert_eq!(gate.region_members_drop_pct, GateConfig::default().region_members_drop_pct);
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\n[gate]\nmember_drop = 25\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("member_drop") && err.contains("line 4"), "{err}");
        std::fs::write(&path, "inbox = \"/in\"\nwarehouse = \"/wh\"\n[gate]\nrejected_rows_pct = 500\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("rejected_rows_pct = 500"), "{err}");
    }
}
