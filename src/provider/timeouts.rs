//! The `timeouts` block, as Terraform's own providers write it: durations such as `30m`.

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

/// `timeouts.create` as written, when set and known.
pub fn create_text(block: &TimeoutsBlock) -> Option<&str> {
    block.as_ref_option()?.first()?.create.as_deref_option()
}

/// The create timeout to apply with: its text (for messages) and duration, `default` when
/// unset. An error at `timeouts[0].create` when it does not parse.
pub fn create_timeout(
    block: &TimeoutsBlock,
    default: &str,
    diags: &mut Diagnostics,
) -> Option<(String, Duration)> {
    let text = create_text(block).unwrap_or(default).to_string();
    match parse_timeout(&text) {
        Ok(d) => Some((text, d)),
        Err(msg) => {
            diags.error(
                "Invalid timeout",
                msg,
                AttributePath::new("timeouts").index(0).attribute("create"),
            );
            None
        }
    }
}

/// Plan-time check: errors at each known `timeouts.create` that is not a positive duration.
pub fn check_timeouts(block: &TimeoutsBlock, diags: &mut Diagnostics) {
    let Value::Value(blocks) = block else { return };
    for (i, t) in blocks.iter().enumerate() {
        if let Value::Value(s) = &t.create {
            if let Err(msg) = parse_timeout(s) {
                diags.error(
                    "Invalid timeout",
                    format!("timeouts.create: {msg}."),
                    AttributePath::new("timeouts")
                        .index(i as i64)
                        .attribute("create"),
                );
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
}
