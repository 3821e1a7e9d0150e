//! Where the ECS, IAM and STS APIs and the instance metadata live: the default endpoints of
//! a region, and the one check of an endpoint URL, used both when the provider block is
//! validated and when a client is built.

use std::borrow::Cow;

use url::{Host, Url};

use super::error::ApiError;

/// The instance metadata of ECS: plain HTTP to a link-local address, on every instance.
pub const DEFAULT_METADATA: &str = "http://169.254.169.254";

/// Where the ECS, IAM and STS APIs and the instance metadata live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub ecs: Url,
    pub iam: Url,
    /// STS v5 (`agencies/assume`): `https://sts.{region}.myhuaweicloud.com` by default.
    pub sts: Url,
    /// The instance metadata: [`DEFAULT_METADATA`] by default (always plain HTTP).
    pub metadata: Url,
}

impl Endpoints {
    /// `https://ecs.{region}.myhuaweicloud.com` and `https://iam.{region}.myhuaweicloud.com`,
    /// each replaced by its override when given. A default is always `https`; plain `http://`
    /// is accepted only as an explicit override (whether it is allowed for a host that is not
    /// loopback is decided when the client is built, which knows `insecure`). An override must
    /// pass [`check_endpoint`]; a trailing `/` is ignored.
    ///
    /// An override may carry a path prefix (`https://gw.example/ecs`), which is put before
    /// every API path. An empty or blank override counts as not given.
    pub fn for_region(
        region: &str,
        ecs_override: Option<&str>,
        iam_override: Option<&str>,
    ) -> Result<Self, ApiError> {
        let iam = endpoint_or_default("iam", region, iam_override)?;
        Ok(Self {
            ecs: endpoint_or_default("ecs", region, ecs_override)?,
            // Without a region the IAM override stands for STS too (a gateway or a test).
            sts: default_endpoint("sts", "STS", region).unwrap_or_else(|_| iam.clone()),
            metadata: Url::parse(DEFAULT_METADATA).expect("a valid URL"),
            iam,
        })
    }

    /// These endpoints with the `sts` and `metadata` overrides, where given (the same rules
    /// as [`Endpoints::for_region`]; the metadata is plain HTTP on any host).
    pub fn with_overrides(
        mut self,
        sts_override: Option<&str>,
        metadata_override: Option<&str>,
    ) -> Result<Self, ApiError> {
        let given = |o: Option<&str>| {
            o.map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
        };
        if let Some(raw) = given(sts_override) {
            self.sts = endpoint_or_default("sts", "", Some(&raw))?;
        }
        if let Some(raw) = given(metadata_override) {
            self.metadata = endpoint_or_default("metadata", "", Some(&raw))?;
        }
        Ok(self)
    }
}

fn endpoint_or_default(
    service: &str,
    region: &str,
    override_url: Option<&str>,
) -> Result<Url, ApiError> {
    let label = service.to_uppercase();
    match override_url.map(str::trim).filter(|o| !o.is_empty()) {
        Some(raw) => {
            let mut url = check_endpoint(raw, None)
                .map_err(|why| ApiError::InvalidArgument(format!("{label} endpoint {why}")))?;
            let trimmed = url.path().trim_end_matches('/').to_string();
            url.set_path(&trimmed);
            Ok(url)
        }
        None => default_endpoint(service, &label, region),
    }
}

fn default_endpoint(service: &str, label: &str, region: &str) -> Result<Url, ApiError> {
    let region = region.trim();
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !valid {
        return Err(ApiError::InvalidArgument(format!(
            "region {region:?} is not a valid region name (letters, digits and '-'), so no \
             default {label} endpoint can be built; set the region or an explicit endpoint"
        )));
    }
    let raw = format!("https://{service}.{region}.myhuaweicloud.com");
    Url::parse(&raw).map_err(|e| {
        ApiError::InvalidArgument(format!("default {label} endpoint {raw:?} is invalid: {e}"))
    })
}

/// Checks one endpoint URL as written and returns it parsed. `insecure` is `None` while it is
/// unknown (at plan time, or before the client is built), and then plain `http` is let through.
///
/// The error starts with the value (a password in it masked) and says how to fix it; the
/// caller puts the attribute or endpoint name in front.
pub fn check_endpoint(value: &str, insecure: Option<bool>) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| {
        format!(
            "{:?} is not an absolute URL ({e}); write it with its scheme, such as \
             \"https://ecs.example.com\"",
            without_password(value)
        )
    })?;
    check_endpoint_url(&url, value, insecure)?;
    Ok(url)
}

/// The rules of [`check_endpoint`] on a parsed URL; `shown` is the value as the user wrote it.
pub fn check_endpoint_url(url: &Url, shown: &str, insecure: Option<bool>) -> Result<(), String> {
    let shown = without_password(shown);
    let scheme = url.scheme();
    if !matches!(scheme, "http" | "https") {
        return Err(format!(
            "{shown:?} has scheme {scheme:?}; only https (and http with care) are supported"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{shown:?} has no host; write it as \"https://HOST[:PORT][/PATH]\""
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{shown:?} must not carry a user name or password; remove them (requests are \
             signed with access_key and secret_key)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{shown:?} must not have a query or a fragment; remove everything from the first \
             \"?\" or \"#\""
        ));
    }
    if scheme == "http" && insecure == Some(false) && !is_loopback_host(url) {
        return Err(format!(
            "{shown:?} is plain http to a host that is not loopback: requests and their \
             signatures would cross the network unencrypted. Use https, or set insecure = true \
             to allow it"
        ));
    }
    Ok(())
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `value` with the password of its user info, if any, replaced by `***`: an endpoint in an
/// error message must not leak a secret.
fn without_password(value: &str) -> Cow<'_, str> {
    let Some(authority_start) = value.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(value);
    };
    let rest = &value[authority_start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(value);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(value);
    };
    let user_end = authority_start + colon;
    let at = authority_start + at;
    Cow::Owned(format!("{}:***{}", &value[..user_end], &value[at..]))
}

/// An endpoint split into what requests need.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    /// `scheme://authority`, without a trailing `/`.
    pub origin: String,
    /// The URL authority (`host[:port]`), the value of `Host`.
    pub host: String,
    /// The endpoint's own path, without a trailing `/` (usually empty).
    pub path_prefix: String,
}

impl Base {
    /// Checks `url` (now that `insecure` is known) and splits it; `label` names it in errors.
    pub fn of(label: &str, url: &Url, insecure: bool) -> Result<Self, ApiError> {
        check_endpoint_url(url, url.as_str(), Some(insecure))
            .map_err(|why| ApiError::InvalidArgument(format!("{label} endpoint {why}")))?;
        let host_name = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_string(),
        };
        Ok(Self {
            origin: format!("{}://{host}", url.scheme()),
            host,
            path_prefix: url.path().trim_end_matches('/').to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoints_are_https() {
        let e = Endpoints::for_region("cn-north-4", None, None).expect("valid");
        assert_eq!(e.ecs.as_str(), "https://ecs.cn-north-4.myhuaweicloud.com/");
        assert_eq!(e.iam.as_str(), "https://iam.cn-north-4.myhuaweicloud.com/");
    }

    #[test]
    fn overrides_may_be_http_with_port_and_prefix() {
        let e = Endpoints::for_region(
            "cn-north-4",
            Some("http://127.0.0.1:8080/"),
            Some("https://gw.example/iam/"),
        )
        .expect("valid");
        assert_eq!(e.ecs.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(e.iam.as_str(), "https://gw.example/iam");
        let b = Base::of("IAM", &e.iam, false).expect("valid");
        assert_eq!(b.origin, "https://gw.example");
        assert_eq!(b.host, "gw.example");
        assert_eq!(b.path_prefix, "/iam");
        let b = Base::of("ECS", &e.ecs, false).expect("valid");
        assert_eq!(b.host, "127.0.0.1:8080");
        assert_eq!(b.path_prefix, "");
        // Blank override = not given.
        let e = Endpoints::for_region("r1", Some("  "), None).expect("valid");
        assert_eq!(e.ecs.as_str(), "https://ecs.r1.myhuaweicloud.com/");
    }

    #[test]
    fn bad_endpoints_are_named_in_the_error() {
        for bad in [
            "ecs.example.com",
            "ftp://ecs.example.com",
            "https://ecs.example.com/?a=b",
            "https://ecs.example.com/#x",
            "https://user@ecs.example.com",
            "file:///etc/passwd",
        ] {
            match Endpoints::for_region("cn-north-4", Some(bad), None) {
                Err(ApiError::InvalidArgument(m)) => {
                    assert!(m.contains("ECS endpoint"), "{m}");
                    assert!(m.contains(bad), "{m}");
                }
                other => panic!("{bad}: expected an InvalidArgument error, got {other:?}"),
            }
        }
        // A password is refused, and masked in the error.
        match Endpoints::for_region("cn-north-4", Some("https://user:pw@ecs.example.com"), None) {
            Err(ApiError::InvalidArgument(m)) => {
                assert!(m.contains("ECS endpoint"), "{m}");
                assert!(m.contains("\"https://user:***@ecs.example.com\""), "{m}");
                assert!(!m.contains("pw"), "{m}");
            }
            other => panic!("expected an InvalidArgument error, got {other:?}"),
        }
        match Endpoints::for_region("bad region!", None, Some("http://iam")) {
            Err(ApiError::InvalidArgument(m)) => assert!(m.contains("bad region!"), "{m}"),
            other => panic!("expected an InvalidArgument error, got {other:?}"),
        }
        match Endpoints::for_region("", Some("http://ecs"), None) {
            Err(ApiError::InvalidArgument(m)) => assert!(m.contains("IAM"), "{m}"),
            other => panic!("expected an InvalidArgument error, got {other:?}"),
        }
        assert!(Endpoints::for_region("", Some("http://ecs"), Some("http://iam")).is_ok());
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(check_endpoint("https://ecs.example.com", Some(false)).is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080", Some(false)).is_ok());
        assert!(check_endpoint("http://localhost:8080", Some(false)).is_ok());
        assert!(check_endpoint("http://[::1]:8080", Some(false)).is_ok());
        let e = check_endpoint("http://ecs.example.com", Some(false)).unwrap_err();
        assert!(e.contains("insecure = true"), "{e}");
        assert!(check_endpoint("http://ecs.example.com", Some(true)).is_ok());
        assert!(check_endpoint("http://ecs.example.com", None).is_ok());
        let e = check_endpoint("ecs.example.com", Some(false)).unwrap_err();
        assert!(e.contains("absolute URL"), "{e}");
        assert!(check_endpoint("ftp://x", None).is_err());
        assert!(check_endpoint("https://x/?a=b", None).is_err());
        assert!(check_endpoint("https://x/#a", None).is_err());
        let e = check_endpoint("https://user:pass@host", None).unwrap_err();
        assert!(e.contains("user name or password"), "{e}");
    }

    #[test]
    fn the_client_refuses_plain_http_to_a_remote_host_unless_insecure() {
        let url = Url::parse("http://ecs.example.com").expect("url");
        match Base::of("ECS", &url, false) {
            Err(ApiError::InvalidArgument(m)) => {
                assert!(
                    m.contains("ECS endpoint \"http://ecs.example.com/\""),
                    "{m}"
                );
                assert!(m.contains("insecure = true"), "{m}");
            }
            other => panic!("expected an InvalidArgument error, got {other:?}"),
        }
        assert!(Base::of("ECS", &url, true).is_ok());
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(without_password("https://u:p@h/x"), "https://u:***@h/x");
        assert_eq!(without_password("https://u@h"), "https://u@h");
        assert_eq!(without_password("https://h/a:b@c"), "https://h/a:b@c");
        assert_eq!(without_password("h:p@x"), "h:p@x");
    }
}
