//! The `timeouts` block, as Terraform's own providers write it: durations such as `30m`.
//! The batch resources act only at create ([`Timeouts`]); a resource whose update acts too
//! has `create` and `update` ([`CreateUpdateTimeouts`]). Both are read through
//! [`TimeoutFields`], so checks and parsing are written once.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

/// One `timeouts` block. tf-provider decodes it by these field names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timeouts {
    pub create: Value<String>,
}

/// The block as it appears in state: an optional block is a list of at most one.
/// `Value<Vec<_>>` and not `serde_as_vec`: the latter fails on an unknown block.
pub type TimeoutsBlock = Value<Vec<Timeouts>>;

/// A `timeouts` block with `create` and `update`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateUpdateTimeouts {
    pub create: Value<String>,
    pub update: Value<String>,
}

pub type CreateUpdateTimeoutsBlock = Value<Vec<CreateUpdateTimeouts>>;

/// The durations of one `timeouts` block, by attribute name.
pub trait TimeoutFields {
    fn fields(&self) -> Vec<(&'static str, &Value<String>)>;
}

impl TimeoutFields for Timeouts {
    fn fields(&self) -> Vec<(&'static str, &Value<String>)> {
        vec![("create", &self.create)]
    }
}

impl TimeoutFields for CreateUpdateTimeouts {
    fn fields(&self) -> Vec<(&'static str, &Value<String>)> {
        vec![("create", &self.create), ("update", &self.update)]
    }
}

/// Terraform's duration strings, such as `30m`, `1h30m`, `90s` or `500ms`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("{s:?} is not a duration ({e}); write it like \"30m\", \"1h30m\" or \"90s\"")
    })?;
    if d.is_zero() {
        return Err(format!("{s:?} is zero; give a positive duration"));
    }
    Ok(d)
}

/// `timeouts.<name>` as written, when set and known.
pub fn timeout_text<'a, T: TimeoutFields>(block: &'a Value<Vec<T>>, name: &str) -> Option<&'a str> {
    let first = block.as_ref_option()?.first()?;
    let (_, value) = first.fields().into_iter().find(|(n, _)| *n == name)?;
    value.as_deref_option()
}

/// `timeouts.create` as written, when set and known.
pub fn create_text(block: &TimeoutsBlock) -> Option<&str> {
    timeout_text(block, "create")
}

/// The create timeout to apply with: its text (for messages) and duration, `default` when
/// unset. An error at `timeouts[0].create` when it does not parse.
pub fn create_timeout(
    block: &TimeoutsBlock,
    default: &str,
    diags: &mut Diagnostics,
) -> Option<(String, Duration)> {
    timeout_of(block, "create", default, diags)
}

/// `timeouts.<name>` to apply with: its text (for messages) and duration, `default` when
/// unset. An error at `timeouts[0].<name>` when it does not parse.
pub fn timeout_of<T: TimeoutFields>(
    block: &Value<Vec<T>>,
    name: &'static str,
    default: &str,
    diags: &mut Diagnostics,
) -> Option<(String, Duration)> {
    let text = timeout_text(block, name).unwrap_or(default).to_string();
    match parse_timeout(&text) {
        Ok(d) => Some((text, d)),
        Err(msg) => {
            diags.error(
                "Invalid timeout",
                msg,
                AttributePath::new("timeouts").index(0).attribute(name),
            );
            None
        }
    }
}

/// Plan-time check: errors at each known duration of the block that is not a positive one.
pub fn check_timeouts<T: TimeoutFields>(block: &Value<Vec<T>>, diags: &mut Diagnostics) {
    let Value::Value(blocks) = block else { return };
    for (i, t) in blocks.iter().enumerate() {
        for (name, value) in t.fields() {
            if let Value::Value(s) = value {
                if let Err(msg) = parse_timeout(s) {
                    diags.error(
                        "Invalid timeout",
                        format!("timeouts.{name}: {msg}."),
                        AttributePath::new("timeouts")
                            .index(i as i64)
                            .attribute(name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_terraform() {
        assert_eq!(parse_timeout("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_timeout("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("-1m").is_err());
        assert!(parse_timeout("").is_err());
    }

    #[test]
    fn the_default_applies_when_create_is_unset() {
        let mut d = Diagnostics::default();
        let unset = Value::Value(vec![Timeouts::default()]);
        assert_eq!(
            create_timeout(&unset, "30m", &mut d),
            Some(("30m".to_string(), Duration::from_secs(1800)))
        );
        let set = Value::Value(vec![Timeouts {
            create: Value::Value("90s".into()),
        }]);
        assert_eq!(
            create_timeout(&set, "30m", &mut d),
            Some(("90s".to_string(), Duration::from_secs(90)))
        );
        assert!(d.errors.is_empty());
        assert_eq!(create_timeout(&Value::Null, "soon", &mut d), None);
        assert!(crate::provider::error_text(&d).starts_with("Invalid timeout | \"soon\""));
    }

    #[test]
    fn an_update_timeout_is_read_and_checked_by_its_name() {
        let block = Value::Value(vec![CreateUpdateTimeouts {
            create: Value::Null,
            update: Value::Value("later".into()),
        }]);
        let mut d = Diagnostics::default();
        assert_eq!(
            timeout_of(&block, "create", "30m", &mut d),
            Some(("30m".to_string(), Duration::from_secs(1800)))
        );
        assert!(d.errors.is_empty());
        check_timeouts(&block, &mut d);
        assert!(
            crate::provider::error_text(&d)
                .starts_with("Invalid timeout | timeouts.update: \"later\""),
            "{}",
            crate::provider::error_text(&d)
        );
    }
}
