//! KooCLI's shared config file (`~/.hcloud/config.json`, written in plaintext with
//! `hcloud configure set --cli-auth-encrypt=false`), read as Huawei's provider reads it
//! (`../shared/docs/credentials.md` §1.3):
//!
//! - the profile named by `profile`, else the file's `current`;
//! - mode `SSO` takes its keys from `ssoAuth.stsToken`; any other mode (`AKSK`,
//!   `ecsAgency`) from the top-level `accessKeyId`, `secretAccessKey`, `securityToken`;
//!   a profile without keys (`ecsAgency`) leaves the instance metadata to supply them;
//! - `region`, `projectId`, `domainId`, `agencyName` and `agencyDomainName` where set.
//!
//! Errors name the file and the profile, never a value from it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Credentials;

/// The default file, under `$HOME`.
pub const DEFAULT_FILE: &str = ".hcloud/config.json";

/// The file as KooCLI writes it (the fields the provider reads).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedConfig {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawProfile {
    name: String,
    mode: String,
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
    region: String,
    project_id: String,
    domain_id: String,
    agency_name: String,
    agency_domain_name: String,
    sso_auth: Option<SsoAuth>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SsoAuth {
    sts_token: StsToken,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StsToken {
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
}

/// What one profile gives: keys (`None` for `ecsAgency`) and settings where set.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: String,
    pub keys: Option<Credentials>,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub domain_id: Option<String>,
    /// `agencyName` with `agencyDomainName`: an agency to assume (IAM v3).
    pub agency: Option<(String, String)>,
}

/// `path` with a leading `~` expanded with `home`.
pub fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ if path == "~" => PathBuf::from(home.unwrap_or("~")),
        _ => PathBuf::from(path),
    }
}

/// Reads `profile` (or the file's current one) from the file at `path`.
pub fn read_profile(path: &Path, profile: Option<&str>) -> Result<Profile, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the shared config file {shown}: {e}"))?;
    let config: SharedConfig = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the shared config file {shown} is not KooCLI's config.json in plaintext (line {}); \
             write it with `hcloud configure set --cli-auth-encrypt=false`",
            e.line()
        )
    })?;
    let wanted = profile
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(&config.current);
    let Some(raw) = config.profiles.iter().find(|p| p.name == wanted) else {
        let names: Vec<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
        return Err(format!(
            "the shared config file {shown} has no profile {wanted:?} (it has {names:?})"
        ));
    };
    Ok(profile_of(raw))
}

fn profile_of(raw: &RawProfile) -> Profile {
    let (ak, sk, token) = match (&raw.mode[..], &raw.sso_auth) {
        ("SSO", Some(sso)) => {
            let t = &sso.sts_token;
            (&t.access_key_id, &t.secret_access_key, &t.security_token)
        }
        _ => (
            &raw.access_key_id,
            &raw.secret_access_key,
            &raw.security_token,
        ),
    };
    let set = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let keys = match (set(ak), sk.is_empty()) {
        (Some(ak), false) => {
            let keys = Credentials::new(ak, sk.clone());
            Some(match set(token) {
                Some(t) => keys.with_security_token(t),
                None => keys,
            })
        }
        _ => None,
    };
    Profile {
        name: raw.name.clone(),
        keys,
        region: set(&raw.region),
        project_id: set(&raw.project_id),
        domain_id: set(&raw.domain_id),
        agency: set(&raw.agency_name).zip(set(&raw.agency_domain_name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"current": "default", "profiles": [
        {"name": "default", "mode": "AKSK", "accessKeyId": "AK1", "secretAccessKey": "sk-one",
         "region": "cn-north-4", "projectId": "p1", "agencyName": "", "agencyDomainName": ""},
        {"name": "sso", "mode": "SSO", "ssoAuth": {"stsToken": {"accessKeyId": "AK2",
         "secretAccessKey": "sk-two", "securityToken": "tok-two"}}},
        {"name": "runner", "mode": "ecsAgency", "region": "eu-west-0",
         "agencyName": "ops", "agencyDomainName": "acme"}]}"#;

    fn file() -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), FILE).expect("write");
        f
    }

    #[test]
    fn modes_give_their_keys() {
        let f = file();
        let p = read_profile(f.path(), None).expect("current profile");
        assert_eq!(p.keys.as_ref().map(|k| k.access_key.as_str()), Some("AK1"));
        assert_eq!(p.project_id.as_deref(), Some("p1"));
        assert!(p.agency.is_none());
        let p = read_profile(f.path(), Some("sso")).expect("sso");
        let keys = p.keys.expect("sso keys");
        assert_eq!(keys.access_key, "AK2");
        assert_eq!(
            keys.security_token.map(|t| t.expose().to_string()),
            Some("tok-two".into())
        );
        let p = read_profile(f.path(), Some("runner")).expect("runner");
        assert!(p.keys.is_none(), "ecsAgency: metadata follows");
        assert_eq!(p.agency, Some(("ops".into(), "acme".into())));
    }

    #[test]
    fn errors_name_file_and_profile_never_values() {
        let f = file();
        let e = read_profile(f.path(), Some("nope")).unwrap_err();
        assert!(
            e.contains("no profile \"nope\"") && e.contains("\"sso\""),
            "{e}"
        );
        std::fs::write(f.path(), "{\"profiles\": [{\"secretAccessKey\": \"sk-x\"").expect("write");
        let e = read_profile(f.path(), None).unwrap_err();
        assert!(e.contains("plaintext") && !e.contains("sk-x"), "{e}");
        assert_eq!(expand_home("~/a/b", Some("/h")), PathBuf::from("/h/a/b"));
    }
}
