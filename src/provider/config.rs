//! The provider block: checks at validate time, and the merge with `HW_*` environment
//! variables at configure time. Where the keys come from and how to connect is
//! [`super::credentials`]'s.

use std::time::Duration;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::credentials::{self, Keys};
use super::ProviderConfig;
use crate::api::credentials::{Base, Chain};
use crate::api::endpoint::check_endpoint;
use crate::api::retry::DEFAULT_MAX_RETRIES;
use crate::api::{ClientConfig, ClientOptions, Connection, Credentials, Endpoints, RetryPolicy};

pub const ENV_REGION: &str = "HW_REGION_NAME";
pub const ENV_PROJECT_ID: &str = "HW_PROJECT_ID";
pub const ENV_ACCESS_KEY: &str = "HW_ACCESS_KEY";
pub const ENV_SECRET_KEY: &str = "HW_SECRET_KEY";
pub const ENV_SECURITY_TOKEN: &str = "HW_SECURITY_TOKEN";

pub const ENDPOINT_KEYS: [&str; 4] = ["ecs", "iam", "sts", "metadata"];
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
    /// Where the keys come from: static keys or the metadata, then agencies.
    pub chain: Chain,
    pub connection: Connection,
    pub ecs_endpoint: Option<String>,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub metadata_endpoint: Option<String>,
    pub insecure: bool,
    pub max_retries: u32,
    pub start_rate_limit: u32,
    pub stop_rate_limit: u32,
    pub reboot_rate_limit: u32,
}

impl ResolvedConfig {
    /// Where the client's keys come from and how it connects.
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            chain: Some(self.chain.clone()),
            connection: self.connection.clone(),
            ..ClientOptions::default()
        }
    }

    pub fn into_client_config(self, terraform_version: &str) -> Result<ClientConfig, String> {
        let endpoints = Endpoints::for_region(
            &self.region,
            self.ecs_endpoint.as_deref(),
            self.iam_endpoint.as_deref(),
        )
        .map_err(|e| e.to_string())?
        .with_overrides(
            self.sts_endpoint.as_deref(),
            self.metadata_endpoint.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        // Unused: `client_options` gives the chain these keys (if any) are part of.
        let credentials = match &self.chain.base {
            Base::Keys(keys) => keys.clone(),
            Base::Metadata => Credentials::new("", ""),
        };
        Ok(ClientConfig {
            credentials,
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
        ("shared_config_file", &config.shared_config_file),
        ("profile", &config.profile),
        ("cacert_file", &config.cacert_file),
        ("cert", &config.cert),
        ("key", &config.key),
    ] {
        check_not_blank(value, name, diags);
    }
    credentials::validate(config, diags);
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
                    format!("endpoints has the key {key:?}; the keys are \"ecs\" and \"iam\", plus \"sts\" and \"metadata\"."),
                    path,
                );
                continue;
            }
            if let Value::Value(v) = value {
                // The metadata is plain HTTP to a link-local address on every instance.
                let insecure = if key == "metadata" { None } else { insecure };
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
pub(super) fn resolve_setting(
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
            missing(name, var, diags);
            None
        }
        other => other.map(|v| v.trim().to_string()),
    }
}

fn missing(name: &'static str, var: &'static str, diags: &mut Diagnostics) {
    diags.error(
        format!("Missing {name}"),
        format!("Set `{name}` in the provider \"ecs\" block or the {var} environment variable."),
        AttributePath::new(name),
    );
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
    let region = setting(&config.region, "region", ENV_REGION, false);
    let access_key = setting(&config.access_key, "access_key", ENV_ACCESS_KEY, false);
    let secret_key = setting(&config.secret_key, "secret_key", ENV_SECRET_KEY, false);
    let project_id = setting(&config.project_id, "project_id", ENV_PROJECT_ID, false);
    let security_token = setting(
        &config.security_token,
        "security_token",
        ENV_SECURITY_TOKEN,
        false,
    );
    let keys = Keys {
        access_key,
        secret_key,
        security_token,
    };
    let auth = credentials::resolve(config, keys, env, diags);
    let from_profile = |get: fn(&crate::api::credentials::Profile) -> Option<String>| {
        auth.as_ref().and_then(|a| a.profile.as_ref()).and_then(get)
    };
    let region = region.or_else(|| from_profile(|p| p.region.clone()));
    let project_id = project_id.or_else(|| from_profile(|p| p.project_id.clone()));
    if region.is_none() {
        missing("region", ENV_REGION, diags);
    }
    if diags.errors.len() > errors_before {
        return None;
    }
    let auth = auth?;
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
        chain: auth.chain,
        connection: auth.connection,
        ecs_endpoint: endpoint("ecs"),
        iam_endpoint: endpoint("iam"),
        sts_endpoint: endpoint("sts"),
        metadata_endpoint: endpoint("metadata"),
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
        // No keys at all is no error (the instance metadata supplies them); a region is
        // still needed, and each key needs the other.
        let mut diags = Diagnostics::default();
        assert!(resolve(&ProviderConfig::default(), &|_| None, &mut diags).is_none());
        let text = error_text(&diags);
        assert_eq!(diags.errors.len(), 1, "{text}");
        assert!(
            text.contains("`region`") && text.contains(ENV_REGION),
            "{text}"
        );
        let only_secret = |k: &str| (k == ENV_SECRET_KEY).then(|| "SK".to_string());
        let only_access = |k: &str| (k == ENV_ACCESS_KEY).then(|| "AK".to_string());
        for (arg, var, env) in [
            (
                "access_key",
                ENV_ACCESS_KEY,
                &only_secret as &dyn Fn(&str) -> Option<String>,
            ),
            ("secret_key", ENV_SECRET_KEY, &only_access),
        ] {
            let mut diags = Diagnostics::default();
            assert!(resolve(&ProviderConfig::default(), env, &mut diags).is_none());
            let text = error_text(&diags);
            assert_eq!(diags.errors.len(), 2, "{text}");
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
        match &r.chain.base {
            Base::Keys(keys) => assert_eq!(keys.access_key, "AK"),
            other => panic!("static keys expected, got {other:?}"),
        }
        assert!(r.chain.assume_role.is_empty());
        assert_eq!(r.max_retries, DEFAULT_MAX_RETRIES);
        assert_eq!(r.start_rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(r.stop_rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(r.reboot_rate_limit, DEFAULT_RATE_LIMIT);
        assert!(r.project_id.is_none());
        assert!(!format!("{r:?}").contains("SK-from-env"));
    }
}
