//! The knobs: ecs-sim's run-time behaviour, each defined once on a field of [`Knobs`]. The
//! field's name is its JSON key (`GET`/`PUT /_sim/knobs`), its `#[arg]` gives the
//! `--kebab-case` flag and the default, and its doc comment is the `--help` text and the
//! README's table row (a unit test renders the table and compares).

use clap::{Args, FromArgMatches};
use serde::{Deserialize, Serialize};

use super::config::ALL_ROUTES;

/// How a start of an already running server (or a stop of a stopped one, a reboot of a
/// stopped one) is answered: the real behaviour is unknown (`ecs-api.md` §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AlreadyRunningMode {
    /// Its sub-job FAILs with `Ecs.0100`.
    #[default]
    #[value(name = "subjob_fail")]
    SubjobFail,
    /// The whole POST is refused: 400 `Ecs.0100`.
    #[serde(rename = "sync_400")]
    #[value(name = "sync_400")]
    Sync400,
    /// Its sub-job succeeds and the server stays as it is.
    #[value(name = "success")]
    Success,
}

/// When a dropped connection is closed: after the request was carried out (its answer is
/// lost: the dangerous case for a POST) or before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DropMode {
    /// The request is carried out and only the answer is lost (the dangerous case for a
    /// batch POST).
    #[default]
    After,
    /// The request is dropped unprocessed.
    Before,
}

/// The parent status of a job whose sub-jobs partly failed (`ecs-api.md` §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PartialFailureParent {
    /// `FAIL`.
    #[default]
    Fail,
    /// `SUCCESS`.
    Success,
}

/// Whether the instance metadata offers a session token, and requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum MetadataToken {
    /// Offered; key reads work with or without it.
    #[default]
    Optional,
    /// Offered; a key read without a valid one gets 401.
    Required,
    /// Not offered: the token request gets 404 (older instances).
    Unsupported,
}

/// Run-time behaviour. JSON names are the field names; every field has a default, so a
/// partial object is a valid patch (`PUT /_sim/knobs`). The defaults are written once, in
/// each field's `#[arg(default_value …)]`; [`Knobs::default`] parses an empty command line.
///
/// `fault_routes`, `failing_servers` and `ignore_soft_stop` are spelled `::std::vec::Vec` so
/// that clap takes them as one comma-separated value (`--fault-routes A,B`), not as a
/// repeated flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Knobs (also at run time: PUT /_sim/knobs)")]
pub struct Knobs {
    /// Per-server start time in ms, `MIN,MAX`, drawn uniformly (seeded).
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range, default_value = "15000,35000")]
    pub start_duration_ms: [u64; 2],
    /// Per-server SOFT stop time in ms, `MIN,MAX` (a stop without `type` is SOFT).
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range, default_value = "15000,35000")]
    pub stop_duration_ms: [u64; 2],
    /// Per-server HARD stop time in ms, `MIN,MAX`.
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range, default_value = "5000,10000")]
    pub hard_stop_duration_ms: [u64; 2],
    /// Per-server SOFT reboot time in ms, `MIN,MAX`.
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range, default_value = "30000,60000")]
    pub reboot_duration_ms: [u64; 2],
    /// Per-server HARD reboot time in ms, `MIN,MAX`.
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_range, default_value = "15000,35000")]
    pub hard_reboot_duration_ms: [u64; 2],
    /// Multiplies every duration.
    #[arg(long, default_value = "1.0")]
    pub time_scale: f64,
    /// Servers started per rolling window (a minute) per project; beyond it 429
    /// `APIGW.0308` with `Retry-After`; 0 = off.
    #[arg(long, default_value = "1000")]
    pub start_rate_limit_per_minute: u32,
    /// The length of that rolling window in ms; tests shrink it to scale time (1000 per
    /// 1000 ms is the documented 1000 a minute, sixty times faster).
    #[arg(long, default_value = "60000")]
    pub start_rate_window_ms: u64,
    /// Probability per request of a 429 `APIGW.0308` (with `Retry-After`).
    #[arg(long = "fault-429", value_parser = parse_probability, default_value = "0")]
    pub fault_429: f64,
    /// Probability per request of a 503 `APIGW.0202`.
    #[arg(long = "fault-5xx", value_parser = parse_probability, default_value = "0")]
    pub fault_5xx: f64,
    /// Probability per request of a dropped connection (no HTTP answer).
    #[arg(long, value_parser = parse_probability, default_value = "0")]
    pub fault_drop: f64,
    /// Whether a dropped request is carried out first.
    #[arg(long, value_enum, default_value_t)]
    pub fault_drop_mode: DropMode,
    /// Comma-separated route names the faults apply to, such as
    /// `GET /v1/{project_id}/jobs/{job_id}` (see `/_sim/stats`); empty = every route.
    #[arg(long, value_name = "ROUTES", value_parser = parse_list, default_value = "", hide_default_value = true)]
    pub fault_routes: ::std::vec::Vec<String>,
    /// The next N requests on `fault_routes` get a 429 (deterministic; counts down).
    #[arg(long = "fault-429-burst", default_value = "0")]
    pub fault_429_burst: u32,
    /// The next N requests on `fault_routes` get a 503.
    #[arg(long = "fault-5xx-burst", default_value = "0")]
    pub fault_5xx_burst: u32,
    /// The next N requests on `fault_routes` are dropped.
    #[arg(long, default_value = "0")]
    pub fault_drop_burst: u32,
    /// `Retry-After` seconds on injected 429s.
    #[arg(long, default_value = "1")]
    pub retry_after_secs: u64,
    /// Added delay in ms before every API answer.
    #[arg(long, default_value = "0")]
    pub latency_ms: u64,
    /// Comma-separated server ids whose sub-job FAILs after the drawn duration, whatever
    /// the operation: start `Ecs.0226` (stays SHUTOFF), reboot `Ecs.0227` (back to
    /// ACTIVE), stop `Ecs.0228` (stays ACTIVE; the real code is unknown).
    #[arg(long, value_name = "IDS", value_parser = parse_list, default_value = "", hide_default_value = true)]
    pub failing_servers: ::std::vec::Vec<String>,
    /// Comma-separated server ids whose guest ignores a SOFT stop: `ACTIVE` +
    /// `powering-off` for `soft_stop_timeout_ms`, then the sub-job FAILs `Ecs.0228` and the
    /// server is `ACTIVE` again. A HARD stop still stops them.
    #[arg(long, value_name = "IDS", value_parser = parse_list, default_value = "", hide_default_value = true)]
    pub ignore_soft_stop: ::std::vec::Vec<String>,
    /// How long the service waits for a guest that ignores a SOFT stop before failing its
    /// sub-job, in ms (scaled by `time_scale`). The real value is not documented.
    #[arg(long, default_value = "300000")]
    pub soft_stop_timeout_ms: u64,
    /// A HARD stop of a server whose SOFT stop is under way FAILs `Ecs.0603` (busy) instead
    /// of overriding it (the real behaviour is not documented).
    #[arg(long)]
    pub soft_stop_blocks_hard_stop: bool,
    /// How starting a running server, stopping a stopped one or rebooting a stopped one is
    /// answered (an ERROR server, or a reboot of a server in a transition, never succeeds).
    #[arg(long, value_enum, default_value_t)]
    pub already_running_mode: AlreadyRunningMode,
    /// The parent status of a job with some FAIL sub-jobs.
    #[arg(long, value_enum, default_value_t)]
    pub partial_failure_parent: PartialFailureParent,
    /// New jobs stay RUNNING forever (their servers stay in their transition).
    #[arg(long)]
    pub never_finish: bool,
    /// The next N new jobs stay RUNNING forever (counts down).
    #[arg(long, default_value = "0")]
    pub never_finish_jobs: u32,
    /// Finished jobs are purged this many seconds after their end; reading one then gives
    /// 404.
    #[arg(long, default_value = "86400")]
    pub job_ttl_secs: u64,
    /// Seeds the random durations and probabilistic faults (setting it at run time
    /// re-seeds).
    #[arg(long, default_value = "0")]
    pub seed: u64,
    /// A parent status served instead of the real one (e.g. an unknown `WEIRD`).
    #[arg(long)]
    pub job_status_override: Option<String>,
    /// Job reads answer 200 with a body that is not JSON.
    #[arg(long)]
    pub malformed_job_json: bool,
    /// Action POSTs answer 200 `{}` (the job is still created).
    #[arg(long)]
    pub omit_job_id: bool,
    /// Largest accepted difference in seconds between `X-Sdk-Date` and ecs-sim's clock.
    #[arg(long, default_value = "900")]
    pub clock_skew_tolerance_secs: u64,
    /// Shifts ecs-sim's clock for the `X-Sdk-Date` check only (seconds, either sign): plays
    /// a client whose clock is off.
    #[arg(long, allow_negative_numbers = true, default_value = "0")]
    pub clock_offset_secs: i64,
    /// Lifetime in seconds of the temporary credentials ecs-sim issues (instance metadata,
    /// assumed agencies); they are refused with 401 `APIGW.0301` once expired. 0 = as
    /// requested: an agency's `duration_seconds` (900 when none), metadata 3600.
    #[arg(long, default_value = "0")]
    pub credential_lifetime_secs: u64,
    /// The instance metadata's session token (`PUT /meta-data/latest/api/token`).
    #[arg(long, value_enum, default_value_t)]
    pub metadata_token: MetadataToken,
    /// The name of generated server `i` (`--servers`): `{i}` is replaced by `i`.
    #[arg(long, value_name = "PATTERN", default_value = "ecs-sim-{i}")]
    pub fleet_name_pattern: String,
    /// The tags of generated servers: comma-separated tag sets, server `i` getting set
    /// `i mod n`; a set is `key=value` pairs joined by `+`, `-` for no tags (e.g.
    /// `env=prod+team=web,env=staging,-`).
    #[arg(long, value_name = "SETS", value_parser = parse_list, default_value = "", hide_default_value = true)]
    pub fleet_tags: ::std::vec::Vec<String>,
    /// Comma-separated flavor ids; generated server `i` gets number `i mod n`, a server
    /// loaded without one the first.
    #[arg(long, value_name = "IDS", value_parser = parse_list, default_value = "s6.small.1")]
    pub fleet_flavors: ::std::vec::Vec<String>,
    /// Comma-separated availability zones, dealt out as `fleet_flavors`.
    #[arg(long, value_name = "ZONES", value_parser = parse_list, default_value = "cn-north-4a")]
    pub fleet_availability_zones: ::std::vec::Vec<String>,
    /// Comma-separated enterprise project ids (`0` is the default project), dealt out as
    /// `fleet_flavors`.
    #[arg(long, value_name = "IDS", value_parser = parse_list, default_value = "0")]
    pub fleet_enterprise_projects: ::std::vec::Vec<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        let command = Knobs::augment_args(clap::Command::new("ecs-sim"));
        let matches = command
            .try_get_matches_from(["ecs-sim"])
            .expect("the knob defaults parse");
        Knobs::from_arg_matches(&matches).expect("the knob defaults parse")
    }
}

impl Knobs {
    /// Refuses values that make no sense, naming the knob.
    pub fn validate(&self) -> Result<(), String> {
        for (name, [lo, hi]) in [
            ("start_duration_ms", self.start_duration_ms),
            ("stop_duration_ms", self.stop_duration_ms),
            ("hard_stop_duration_ms", self.hard_stop_duration_ms),
            ("reboot_duration_ms", self.reboot_duration_ms),
            ("hard_reboot_duration_ms", self.hard_reboot_duration_ms),
        ] {
            if lo > hi {
                return Err(format!("{name}: min {lo} is greater than max {hi}"));
            }
        }
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err("time_scale must be a finite number >= 0".into());
        }
        if self.start_rate_window_ms == 0 {
            return Err("start_rate_window_ms must be at least 1".into());
        }
        for (name, p) in [
            ("fault_429", self.fault_429),
            ("fault_5xx", self.fault_5xx),
            ("fault_drop", self.fault_drop),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0.0 and 1.0"));
            }
        }
        for set in &self.fleet_tags {
            parse_tag_set(set).map_err(|e| format!("fleet_tags: {e}"))?;
        }
        for r in &self.fault_routes {
            if !ALL_ROUTES.contains(&r.as_str()) {
                return Err(format!(
                    "fault_routes: unknown route {r:?}; known: {}",
                    ALL_ROUTES.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Merges a partial JSON object into these knobs; unknown keys and bad values are
    /// refused with a message naming them.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Knobs, String> {
        let serde_json::Value::Object(patch) = patch else {
            return Err("the knobs patch must be a JSON object".into());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(map) = &mut current {
            for (k, v) in patch {
                if !map.contains_key(k) {
                    return Err(format!("unknown knob {k:?}"));
                }
                map.insert(k.clone(), v.clone());
            }
        }
        let knobs: Knobs = serde_json::from_value(current).map_err(|e| e.to_string())?;
        knobs.validate()?;
        Ok(knobs)
    }

    /// Whether the faults apply to `route`.
    pub fn faults_apply_to(&self, route: &str) -> bool {
        self.fault_routes.is_empty() || self.fault_routes.iter().any(|r| r == route)
    }
}

/// One tag set of `fleet_tags`: `key=value` pairs joined by `+`, or `-` for none.
pub fn parse_tag_set(set: &str) -> Result<Vec<(String, String)>, String> {
    if set == "-" {
        return Ok(Vec::new());
    }
    set.split('+')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().into(), v.trim().into())),
            _ => Err(format!("{pair:?} in {set:?} is not key=value")),
        })
        .collect()
}

/// A `[min, max]` range in ms: `MIN,MAX`, `MIN-MAX` or a single `N`.
fn parse_range(s: &str) -> Result<[u64; 2], String> {
    let parts: Vec<&str> = s.split([',', '-']).map(str::trim).collect();
    let nums: Result<Vec<u64>, _> = parts.iter().map(|p| p.parse::<u64>()).collect();
    match nums.map_err(|e| format!("{s:?}: {e}"))?.as_slice() {
        [n] => Ok([*n, *n]),
        [a, b] if a <= b => Ok([*a, *b]),
        _ => Err(format!("{s:?}: expected MIN,MAX with MIN <= MAX")),
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?}: expected a probability between 0.0 and 1.0")),
    }
}

/// A comma-separated list; blanks around items and empty items are dropped.
fn parse_list(s: &str) -> Result<Vec<String>, String> {
    Ok(s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests;
