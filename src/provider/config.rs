//! The provider block: checks at validate time, and the merge with `HW_*` environment
//! variables at configure time.

use std::time::Duration;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::ProviderConfig;
use crate::api::endpoint::check_endpoint;
use crate::api::retry::DEFAULT_MAX_RETRIES;
use crate::api::{ClientConfig, Credentials, Endpoints, RetryPolicy};

pub const ENV_REGION: &str = "HW_REGION_NAME";
pub const ENV_PROJECT_ID: &str = "HW_PROJECT_ID";
pub const ENV_ACCESS_KEY: &str = "HW_ACCESS_KEY";
pub const ENV_SECRET_KEY: &str = "HW_SECRET_KEY";
pub const ENV_SECURITY_TOKEN: &str = "HW_SECURITY_TOKEN";

pub const ENDPOINT_KEYS: [&str; 2] = ["ecs", "iam"];
/// Servers per minute of each power operation, as Huawei documents for each.
pub const DEFAULT_RATE_LIMIT: u32 = 1000;
/// Upper bounds that catch typos (a retry count of 1e9 is never meant).
pub const MAX_MAX_RETRIES: i64 = 100;
pub const MAX_RATE_LIMIT: i64 = 1_000_000;

/// The provider settings after the environment filled in what the block left out.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub region: String,
    pub project_id: Option<String>,
    pub credentials: Credentials,
    pub ecs_endpoint: Option<String>,
    pub iam_endpoint: Option<String>,
    pub insecure: bool,
    pub max_retries: u32,
    pub start_rate_limit: u32,
    pub stop_rate_limit: u32,
    pub reboot_rate_limit: u32,
}

impl ResolvedConfig {
    pub fn into_client_config(self, terraform_version: &str) -> Result<ClientConfig, String> {
        let endpoints = Endpoints::for_region(
            &self.region,
            self.ecs_endpoint.as_deref(),
            self.iam_endpoint.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        Ok(ClientConfig {
            credentials: self.credentials,
            region: self.region,
            project_id: self.project_id,
            endpoints,
            insecure: self.insecure,
            retry: RetryPolicy {
                max_retries: self.max_retries,
                ..RetryPolicy::default()
            },
            request_timeout: Duration::from_secs(60),
            user_agent: format!(
                "terraform-provider-ecs/{} terraform/{}",
                env!("CARGO_PKG_VERSION"),
                terraform_version
            ),
        })
    }
}

fn check_not_blank(value: &Value<String>, name: &'static str, diags: &mut Diagnostics) {
    if let Value::Value(v) = value {
        if v.trim().is_empty() {
            diags.error(
                format!("Empty {name}"),
                format!("`{name}` is set to an empty or blank string. Give a value, or remove the argument to use its environment variable."),
                AttributePath::new(name),
            );
        }
    }
}

/// Static checks on the block as written; unknown values are left for later.
pub fn validate(config: &ProviderConfig, diags: &mut Diagnostics) {
    for (name, value) in [
        ("region", &config.region),
        ("project_id", &config.project_id),
        ("access_key", &config.access_key),
        ("secret_key", &config.secret_key),
        ("security_token", &config.security_token),
    ] {
        check_not_blank(value, name, diags);
    }
    let insecure = match config.insecure {
        Value::Value(b) => Some(b),
        Value::Null => Some(false),
        Value::Unknown => None,
    };
    if let Value::Value(endpoints) = &config.endpoints {
        for (key, value) in endpoints {
            let path = AttributePath::new("endpoints").key(key.clone());
            if !ENDPOINT_KEYS.contains(&key.as_str()) {
                diags.error(
                    "Unknown endpoint key",
                    format!("endpoints has the key {key:?}; the keys are \"ecs\" and \"iam\"."),
                    path,
                );
                continue;
            }
            if let Value::Value(v) = value {
                if let Err(msg) = check_endpoint(v, insecure) {
                    diags.error(
                        "Invalid endpoint URL",
                        format!("endpoints[\"{key}\"]: {msg}."),
                        path,
                    );
                }
            }
        }
    }
    for (name, value, max) in [
        ("max_retries", &config.max_retries, MAX_MAX_RETRIES),
        ("start_rate_limit", &config.start_rate_limit, MAX_RATE_LIMIT),
        ("stop_rate_limit", &config.stop_rate_limit, MAX_RATE_LIMIT),
        (
            "reboot_rate_limit",
            &config.reboot_rate_limit,
            MAX_RATE_LIMIT,
        ),
    ] {
        if let Value::Value(n) = value {
            if *n < 0 || *n > max {
                diags.error(
                    format!("Invalid {name}"),
                    format!("`{name}` is {n}; it must be between 0 and {max}."),
                    AttributePath::new(name),
                );
            }
        }
    }
}

/// One string setting: the block's value, else the environment variable `var` (an empty
/// variable counts as unset). Errors, at `name`, when a required setting is missing or the
/// value found is blank.
fn resolve_setting(
    value: &Value<String>,
    name: &'static str,
    var: &'static str,
    required: bool,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let found = value
        .as_ref_option()
        .cloned()
        .or_else(|| env(var).filter(|v| !v.is_empty()));
    match found {
        Some(v) if v.trim().is_empty() => {
            diags.error(
                format!("Empty {name}"),
                format!("The environment variable {var} that fills in `{name}` is blank."),
                AttributePath::new(name),
            );
            None
        }
        None if required => {
            diags.error(
                format!("Missing {name}"),
                format!(
                    "Set `{name}` in the provider \"ecs\" block or the {var} environment variable."
                ),
                AttributePath::new(name),
            );
            None
        }
        other => other.map(|v| v.trim().to_string()),
    }
}

/// Merges the block with the environment. Reports every missing setting, each naming its
/// argument and environment variable, and returns `None` if anything is missing or wrong.
pub fn resolve(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<ResolvedConfig> {
    let errors_before = diags.errors.len();
    validate(config, diags);
    let mut setting = |value: &Value<String>, name, var, required| {
        resolve_setting(value, name, var, required, env, diags)
    };
    let region = setting(&config.region, "region", ENV_REGION, true);
    let access_key = setting(&config.access_key, "access_key", ENV_ACCESS_KEY, true);
    let secret_key = setting(&config.secret_key, "secret_key", ENV_SECRET_KEY, true);
    let project_id = setting(&config.project_id, "project_id", ENV_PROJECT_ID, false);
    let token = setting(
        &config.security_token,
        "security_token",
        ENV_SECURITY_TOKEN,
        false,
    );
    if diags.errors.len() > errors_before {
        return None;
    }
    let mut credentials = Credentials::new(access_key?, secret_key?);
    if let Some(t) = token {
        credentials = credentials.with_security_token(t);
    }
    let endpoint = |key: &str| {
        config
            .endpoints
            .as_ref_option()
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_ref_option().cloned())
    };
    Some(ResolvedConfig {
        region: region?,
        project_id,
        credentials,
        ecs_endpoint: endpoint("ecs"),
        iam_endpoint: endpoint("iam"),
        insecure: config.insecure.as_ref_option().copied().unwrap_or(false),
        max_retries: config
            .max_retries
            .as_ref_option()
            .map(|n| *n as u32)
            .unwrap_or(DEFAULT_MAX_RETRIES),
        start_rate_limit: rate_limit(&config.start_rate_limit),
        stop_rate_limit: rate_limit(&config.stop_rate_limit),
        reboot_rate_limit: rate_limit(&config.reboot_rate_limit),
    })
}

/// A rate limit setting, or its default when unset.
fn rate_limit(value: &Value<i64>) -> u32 {
    value
        .as_ref_option()
        .map(|n| *n as u32)
        .unwrap_or(DEFAULT_RATE_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::error_text;
    use std::collections::BTreeMap;

    #[test]
    fn validate_names_attributes() {
        let mut endpoints = BTreeMap::new();
        endpoints.insert("ec2".to_string(), Value::Value("https://x".to_string()));
        let config = ProviderConfig {
            access_key: Value::Value("  ".into()),
            endpoints: Value::Value(endpoints),
            max_retries: Value::Value(-1),
            start_rate_limit: Value::Value(-5),
            stop_rate_limit: Value::Value(MAX_RATE_LIMIT + 1),
            reboot_rate_limit: Value::Value(-1),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        validate(&config, &mut diags);
        let text = error_text(&diags);
        assert_eq!(diags.errors.len(), 6, "{text}");
        assert!(text.contains("`access_key` is set to an empty"), "{text}");
        assert!(text.contains("\"ec2\""), "{text}");
        assert!(text.contains("`max_retries` is -1"), "{text}");
        assert!(text.contains("`start_rate_limit` is -5"), "{text}");
        assert!(
            text.contains("`stop_rate_limit` is 1000001; it must be between 0 and 1000000."),
            "{text}"
        );
        assert!(text.contains("`reboot_rate_limit` is -1"), "{text}");
    }

    #[test]
    fn validate_refuses_user_info_in_an_endpoint_naming_its_attribute() {
        let mut endpoints = BTreeMap::new();
        endpoints.insert(
            "ecs".to_string(),
            Value::Value("https://user:pass@host".to_string()),
        );
        let config = ProviderConfig {
            endpoints: Value::Value(endpoints),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        validate(&config, &mut diags);
        let text = error_text(&diags);
        assert_eq!(diags.errors.len(), 1, "{text}");
        assert!(text.contains("endpoints[\"ecs\"]"), "{text}");
        assert!(text.contains("user name or password"), "{text}");
        assert!(
            !text.contains("pass@"),
            "the password is not echoed: {text}"
        );
    }

    #[test]
    fn resolve_uses_env_and_reports_each_missing_setting() {
        let mut diags = Diagnostics::default();
        assert!(resolve(&ProviderConfig::default(), &|_| None, &mut diags).is_none());
        let text = error_text(&diags);
        assert_eq!(diags.errors.len(), 3, "{text}");
        for (arg, var) in [
            ("region", ENV_REGION),
            ("access_key", ENV_ACCESS_KEY),
            ("secret_key", ENV_SECRET_KEY),
        ] {
            assert!(
                text.contains(&format!("`{arg}`")) && text.contains(var),
                "{text}"
            );
        }

        let env = |k: &str| match k {
            ENV_REGION => Some("cn-north-4".to_string()),
            ENV_ACCESS_KEY => Some("AK".to_string()),
            ENV_SECRET_KEY => Some("SK-from-env".to_string()),
            _ => None,
        };
        let mut diags = Diagnostics::default();
        let config = ProviderConfig {
            region: Value::Value("eu-west-0".into()),
            ..Default::default()
        };
        let r = resolve(&config, &env, &mut diags).expect("resolves");
        assert_eq!(r.region, "eu-west-0", "the block wins over the environment");
        assert_eq!(r.credentials.access_key, "AK");
        assert_eq!(r.max_retries, DEFAULT_MAX_RETRIES);
        assert_eq!(r.start_rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(r.stop_rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(r.reboot_rate_limit, DEFAULT_RATE_LIMIT);
        assert!(r.project_id.is_none());
        assert!(!format!("{r:?}").contains("SK-from-env"));
    }
}
