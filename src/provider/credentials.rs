//! The provider block's credential and connection settings: which keys sign (static keys,
//! a KooCLI profile, the instance metadata, agencies to assume) and how to connect (CAs,
//! client certificate, proxies), merged with their environment variables. Precedence, as
//! Huawei's provider (`docs/index.md`, Authentication):
//!
//! 1. `access_key`/`secret_key`/`security_token`, else their `HW_*` variables;
//! 2. a profile (`shared_config_file`/`profile`, or `HW_SHARED_CONFIG_FILE`/`HW_PROFILE`)
//!    replaces those keys with its own; an `ecsAgency` profile has none;
//! 3. no keys at all: the ECS instance metadata;
//! 4. `assume_role` blocks (else `HW_ASSUME_ROLE_*`, else the profile's agency), in order,
//!    each signed with the keys of the step before.
//!
//! Plan-time checks name the attribute and its value (never a secret's value).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, NestedBlock};
use tf_provider::value::Value;
use tf_provider::{map, AttributePath, Diagnostics};

use super::attributes::{optional, required};
use super::config::resolve_setting;
use super::ProviderConfig;
use crate::api::connection::{ClientIdentity, Connection};
use crate::api::credentials::profile::{expand_home, read_profile, DEFAULT_FILE};
use crate::api::credentials::{AssumeRole, Base, Chain, Credentials, Profile};
use crate::api::trust::Trust;
use crate::api::Secret;

pub const ENV_SHARED_CONFIG_FILE: &str = "HW_SHARED_CONFIG_FILE";
pub const ENV_PROFILE: &str = "HW_PROFILE";
pub const ENV_ASSUME_ROLE_AGENCY_NAME: &str = "HW_ASSUME_ROLE_AGENCY_NAME";
pub const ENV_ASSUME_ROLE_DOMAIN_NAME: &str = "HW_ASSUME_ROLE_DOMAIN_NAME";
pub const ENV_ASSUME_ROLE_DOMAIN_ID: &str = "HW_ASSUME_ROLE_DOMAIN_ID";
pub const ENV_ASSUME_ROLE_DURATION: &str = "HW_ASSUME_ROLE_DURATION";
pub const ENV_CACERT: &str = "OS_CACERT";
pub const ENV_CERT: &str = "OS_CERT";
pub const ENV_KEY: &str = "OS_KEY";
/// Agency key lifetimes IAM accepts (15 min to 24 h); STS v5 at most 12 h.
pub const MIN_DURATION: i64 = 900;
pub const MAX_DURATION_V3: i64 = 86400;
pub const MAX_DURATION_V5: i64 = 43200;

/// One `assume_role` block. tf-provider decodes it by these field names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AssumeRoleBlock {
    pub agency_name: Value<String>,
    pub domain_name: Value<String>,
    pub domain_id: Value<String>,
    pub duration: Value<i64>,
}

/// The `assume_role` blocks as configured (a list block).
pub type AssumeRoleBlocks = Value<Vec<AssumeRoleBlock>>;

pub fn assume_role_block() -> NestedBlock {
    use tf_provider::schema::AttributeType::{Number, String};
    NestedBlock::List(Block {
        version: 0,
        attributes: map! {
            "agency_name" => required(String, "Name of the agency to assume."),
            "domain_name" => optional(String, "Name of the domain (account) that owns the agency (IAM v3)."),
            "domain_id" => optional(String, "Id of the domain that owns the agency. When set, the agency is assumed through STS v5 (`POST /v5/agencies/assume`) instead of IAM v3 (`POST /v3.0/OS-CREDENTIAL/securitytokens`)."),
            "duration" => optional(Number, "Lifetime of the agency's keys in seconds, 900 to 86400 (to 43200 with `domain_id`). Default: IAM v3 900, STS v5 the service's default. The keys are refreshed before they expire, so a short lifetime is no limit on a long apply.")
        },
        description: Description::markdown("An agency to assume with the credentials above (falls back to `HW_ASSUME_ROLE_AGENCY_NAME`, `HW_ASSUME_ROLE_DOMAIN_NAME`, `HW_ASSUME_ROLE_DOMAIN_ID`, `HW_ASSUME_ROLE_DURATION`). Several blocks form a chain: each is assumed with the keys of the one before."),
        ..Default::default()
    })
}

/// What the credential settings resolve to.
#[derive(Debug, Clone)]
pub struct Auth {
    pub chain: Chain,
    pub connection: Connection,
    /// The profile read, for the region and project id it may give.
    pub profile: Option<Profile>,
}

/// The static keys as resolved from the block and the environment.
pub struct Keys {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub security_token: Option<String>,
}

/// Plan-time checks of the credential and connection settings.
pub fn validate(config: &ProviderConfig, diags: &mut Diagnostics) {
    let Value::Value(blocks) = &config.assume_role else {
        return;
    };
    for (i, block) in blocks.iter().enumerate() {
        let path = || AttributePath::new("assume_role").index(i as i64);
        if let Value::Value(name) = &block.agency_name {
            if name.trim().is_empty() {
                diags.error(
                    "Empty agency_name",
                    "`assume_role.agency_name` is blank; give the agency's name.",
                    path().attribute("agency_name"),
                );
            }
        }
        if let Value::Value(d) = block.duration {
            let v5 = !matches!(block.domain_id, Value::Null);
            if let Err(msg) = check_duration(d, v5) {
                diags.error(
                    "Invalid assume_role duration",
                    msg,
                    path().attribute("duration"),
                );
            }
        }
    }
}

fn check_duration(d: i64, v5: bool) -> Result<(), String> {
    let max = if v5 { MAX_DURATION_V5 } else { MAX_DURATION_V3 };
    if (MIN_DURATION..=max).contains(&d) {
        return Ok(());
    }
    let api = if v5 { " with domain_id (STS v5)" } else { "" };
    Err(format!(
        "`duration` is {d}; it must be between {MIN_DURATION} and {max} seconds{api}."
    ))
}

/// Resolves keys, profile, agencies and connection. Errors name the attribute and its
/// environment variable; `None` when any was reported.
pub fn resolve(
    config: &ProviderConfig,
    keys: Keys,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Auth> {
    let before = diags.errors.len();
    let mut base = base_keys(keys, diags);
    let profile = profile(config, env, diags);
    if let Some(p) = &profile {
        base = p.keys.clone();
    }
    let assume_role = assume_roles(config, env, profile.as_ref(), diags);
    let connection = connection(config, env, diags);
    if diags.errors.len() > before {
        return None;
    }
    let base = base.map_or(Base::Metadata, Base::Keys);
    Some(Auth {
        chain: Chain {
            base,
            assume_role: assume_role?,
        },
        connection: connection?,
        profile,
    })
}

/// Static keys: both or neither; a token only with them.
fn base_keys(keys: Keys, diags: &mut Diagnostics) -> Option<Credentials> {
    use super::config::{ENV_ACCESS_KEY, ENV_SECRET_KEY};
    let missing = |name: &'static str, var: &str, other: &str, diags: &mut Diagnostics| {
        diags.error(
            format!("Missing {name}"),
            format!("`{other}` is set, so `{name}` is needed too: set `{name}` in the provider \"ecs\" block or the {var} environment variable."),
            AttributePath::new(name),
        );
    };
    match (keys.access_key, keys.secret_key) {
        (Some(ak), Some(sk)) => {
            let c = Credentials::new(ak, sk);
            Some(match keys.security_token {
                Some(t) => c.with_security_token(t),
                None => c,
            })
        }
        (Some(_), None) => {
            missing("secret_key", ENV_SECRET_KEY, "access_key", diags);
            None
        }
        (None, Some(_)) => {
            missing("access_key", ENV_ACCESS_KEY, "secret_key", diags);
            None
        }
        (None, None) => {
            if keys.security_token.is_some() {
                missing("access_key", ENV_ACCESS_KEY, "security_token", diags);
            }
            None
        }
    }
}

fn profile(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Profile> {
    let file = resolve_setting(
        &config.shared_config_file,
        "shared_config_file",
        ENV_SHARED_CONFIG_FILE,
        false,
        env,
        diags,
    );
    let name = resolve_setting(&config.profile, "profile", ENV_PROFILE, false, env, diags);
    if file.is_none() && name.is_none() {
        return None;
    }
    let home = env("HOME");
    let path = match &file {
        Some(f) => expand_home(f, home.as_deref()),
        None => Path::new(home.as_deref().unwrap_or("~")).join(DEFAULT_FILE),
    };
    match read_profile(&path, name.as_deref()) {
        Ok(p) => Some(p),
        Err(msg) => {
            let attribute = if file.is_some() {
                "shared_config_file"
            } else {
                "profile"
            };
            diags.error(
                "Cannot read the profile",
                format!("{msg}."),
                AttributePath::new(attribute),
            );
            None
        }
    }
}

/// The blocks; else one from `HW_ASSUME_ROLE_*`; else the profile's agency.
fn assume_roles(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<&Profile>,
    diags: &mut Diagnostics,
) -> Option<Vec<AssumeRole>> {
    if let Value::Value(blocks) = &config.assume_role {
        if !blocks.is_empty() {
            return Some(blocks.iter().map(block_role).collect());
        }
    }
    if let Some(agency_name) = env(ENV_ASSUME_ROLE_AGENCY_NAME).filter(|v| !v.trim().is_empty()) {
        let var = |k| {
            env(k)
                .map(|v: String| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let duration = match var(ENV_ASSUME_ROLE_DURATION).map(|d| d.parse::<i64>()) {
            None => None,
            Some(Ok(d)) if check_duration(d, var(ENV_ASSUME_ROLE_DOMAIN_ID).is_some()).is_ok() => {
                Some(d as u32)
            }
            Some(_) => {
                diags.error("Invalid HW_ASSUME_ROLE_DURATION", format!("The environment variable {ENV_ASSUME_ROLE_DURATION} must be a number of seconds between {MIN_DURATION} and {MAX_DURATION_V3} ({MAX_DURATION_V5} with a domain id)."), AttributePath::new("assume_role"));
                return None;
            }
        };
        return Some(vec![AssumeRole {
            agency_name: agency_name.trim().to_string(),
            domain_name: var(ENV_ASSUME_ROLE_DOMAIN_NAME),
            domain_id: var(ENV_ASSUME_ROLE_DOMAIN_ID),
            duration,
        }]);
    }
    let agency = profile.and_then(|p| p.agency.clone());
    Some(agency.map_or_else(Vec::new, |(agency_name, domain)| {
        vec![AssumeRole {
            agency_name,
            domain_name: Some(domain),
            ..Default::default()
        }]
    }))
}

fn block_role(block: &AssumeRoleBlock) -> AssumeRole {
    let text = |v: &Value<String>| {
        v.as_ref_option()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    AssumeRole {
        agency_name: text(&block.agency_name).unwrap_or_default(),
        domain_name: text(&block.domain_name),
        domain_id: text(&block.domain_id),
        duration: block.duration.as_ref_option().map(|d| *d as u32),
    }
}

/// A PEM setting: inline PEM as it is, else a file (`~` expanded) read.
fn pem(
    value: &Value<String>,
    name: &'static str,
    var: &'static str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Result<Option<String>, ()> {
    let Some(v) = resolve_setting(value, name, var, false, env, diags) else {
        return Ok(None);
    };
    if v.contains("-----BEGIN") {
        return Ok(Some(v));
    }
    let path = expand_home(&v, env("HOME").as_deref());
    std::fs::read_to_string(&path).map(Some).map_err(|e| {
        diags.error(
            format!("Cannot read {name}"),
            format!(
                "`{name}` (or {var}) is {:?}, which is neither PEM nor a readable file: {e}.",
                path.display()
            ),
            AttributePath::new(name),
        );
    })
}

fn connection(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Connection> {
    let ca = pem(&config.cacert_file, "cacert_file", ENV_CACERT, env, diags);
    let cert = pem(&config.cert, "cert", ENV_CERT, env, diags);
    let key = pem(&config.key, "key", ENV_KEY, env, diags);
    let (ca, cert, key) = (ca.ok()?, cert.ok()?, key.ok()?);
    let mut connection = Connection::from_env(env);
    if let Some(ca) = ca {
        connection.trust = Trust::Pem(ca);
    }
    connection.client_identity = match (cert, key) {
        (Some(cert_pem), Some(key)) => Some(ClientIdentity {
            cert_pem,
            key_pem: Secret::new(key),
        }),
        (None, None) => None,
        (cert, _) => {
            let (set, unset) = if cert.is_some() {
                ("cert", "key")
            } else {
                ("key", "cert")
            };
            diags.error(format!("Missing {unset}"), format!("`{set}` is set, so `{unset}` is needed too: a client certificate needs both (or {ENV_CERT} and {ENV_KEY})."), AttributePath::new(unset));
            return None;
        }
    };
    Some(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::error_text;

    fn no_keys() -> Keys {
        Keys {
            access_key: None,
            secret_key: None,
            security_token: None,
        }
    }

    fn role(name: &str, domain_id: Option<&str>, duration: Option<i64>) -> AssumeRoleBlock {
        AssumeRoleBlock {
            agency_name: Value::Value(name.into()),
            domain_id: domain_id.map_or(Value::Null, |d| Value::Value(d.into())),
            duration: duration.map_or(Value::Null, Value::Value),
            ..Default::default()
        }
    }

    #[test]
    fn plan_time_checks_name_the_attribute_and_the_value() {
        let config = ProviderConfig {
            assume_role: Value::Value(vec![
                role(" ", None, Some(600)),
                role("ops", Some("d1"), Some(50000)),
                role("ok", None, Some(86400)),
            ]),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        validate(&config, &mut diags);
        let text = error_text(&diags);
        assert_eq!(diags.errors.len(), 3, "{text}");
        assert!(
            text.contains("`assume_role.agency_name` is blank"),
            "{text}"
        );
        assert!(
            text.contains("`duration` is 600; it must be between 900 and 86400"),
            "{text}"
        );
        assert!(
            text.contains(
                "`duration` is 50000; it must be between 900 and 43200 seconds with domain_id"
            ),
            "{text}"
        );
    }

    #[test]
    fn no_keys_mean_metadata_and_agencies_come_from_blocks_else_the_environment() {
        let mut diags = Diagnostics::default();
        let env = |k: &str| match k {
            ENV_ASSUME_ROLE_AGENCY_NAME => Some("audit".to_string()),
            ENV_ASSUME_ROLE_DOMAIN_ID => Some("d-9".to_string()),
            _ => None,
        };
        let auth =
            resolve(&ProviderConfig::default(), no_keys(), &env, &mut diags).expect("resolves");
        assert!(matches!(auth.chain.base, Base::Metadata));
        assert_eq!(auth.chain.assume_role[0].domain_id.as_deref(), Some("d-9"));
        let config = ProviderConfig {
            assume_role: Value::Value(vec![role("a", None, None), role("b", None, None)]),
            ..Default::default()
        };
        let auth = resolve(&config, no_keys(), &env, &mut diags).expect("resolves");
        let names: Vec<&str> = auth
            .chain
            .assume_role
            .iter()
            .map(|r| r.agency_name.as_str())
            .collect();
        assert_eq!(
            names,
            ["a", "b"],
            "blocks win over HW_ASSUME_ROLE_*, in order"
        );
        assert!(diags.errors.is_empty(), "{}", error_text(&diags));
    }

    #[test]
    fn a_profile_replaces_the_keys_and_errors_name_the_attribute() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("config.json");
        std::fs::write(&file, r#"{"current": "runner", "profiles": [{"name": "runner", "mode": "ecsAgency", "region": "eu-west-0", "agencyName": "ops", "agencyDomainName": "acme"}]}"#).expect("write");
        let config = ProviderConfig {
            shared_config_file: Value::Value(file.display().to_string()),
            ..Default::default()
        };
        let keys = Keys {
            access_key: Some("AK".into()),
            secret_key: Some("SK-static".into()),
            security_token: None,
        };
        let mut diags = Diagnostics::default();
        let auth = resolve(&config, keys, &|_| None, &mut diags).expect("resolves");
        assert!(
            matches!(auth.chain.base, Base::Metadata),
            "ecsAgency: no keys, metadata"
        );
        assert_eq!(
            auth.chain.assume_role[0].domain_name.as_deref(),
            Some("acme")
        );
        assert_eq!(
            auth.profile.and_then(|p| p.region).as_deref(),
            Some("eu-west-0")
        );

        let config = ProviderConfig {
            profile: Value::Value("nope".into()),
            shared_config_file: Value::Value(file.display().to_string()),
            cert: Value::Value("-----BEGIN CERTIFICATE-----".into()),
            ..Default::default()
        };
        assert!(resolve(&config, no_keys(), &|_| None, &mut diags).is_none());
        let text = error_text(&diags);
        assert!(text.contains("no profile \"nope\""), "{text}");
        assert!(
            text.contains("`cert` is set, so `key` is needed too"),
            "{text}"
        );
    }
}
