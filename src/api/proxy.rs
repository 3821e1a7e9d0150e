//! Proxies from the environment, as Go's `http.ProxyFromEnvironment` and curl read them:
//! `HTTPS_PROXY` for `https` URLs, `HTTP_PROXY` for `http` ones, `NO_PROXY` for the hosts
//! that go direct (each variable upper- or lower-case, the upper-case one first). The
//! decision is hyper-util's proxy matcher, the one reqwest itself uses, so the proxy a
//! request goes through and the proxy an error names are the same by construction.
//!
//! Every ECS, IAM and STS call goes through them; the instance metadata never does (its
//! client is built without a proxy). A proxy is shown with its password masked.

use std::fmt;
use std::sync::Arc;

use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

/// The variables read, upper-case first.
pub const HTTPS_PROXY: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
pub const HTTP_PROXY: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
pub const NO_PROXY: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The proxy settings: none, or those of the environment.
#[derive(Clone, Default)]
pub struct Proxies {
    https: Option<String>,
    http: Option<String>,
    no_proxy: Option<String>,
    matcher: Option<Arc<Matcher>>,
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxies")
            .field("https", &self.https.as_deref().map(masked))
            .field("http", &self.http.as_deref().map(masked))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl Proxies {
    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The proxies of the environment `env` (a lookup, so tests need not set the process's).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let first = |names: [&str; 2]| {
            names.iter().find_map(|n| {
                env(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        let (https, http, no_proxy) = (first(HTTPS_PROXY), first(HTTP_PROXY), first(NO_PROXY));
        if https.is_none() && http.is_none() {
            return Self::none();
        }
        let mut builder = Matcher::builder();
        if let Some(p) = &https {
            builder = builder.https(p.clone());
        }
        if let Some(p) = &http {
            builder = builder.http(p.clone());
        }
        if let Some(n) = &no_proxy {
            builder = builder.no(n.clone());
        }
        Self {
            https,
            http,
            no_proxy,
            matcher: Some(Arc::new(builder.build())),
        }
    }

    /// The proxy (as configured, credentials included) a request to `url` goes through.
    pub fn proxy_for(&self, url: &Url) -> Option<&str> {
        let matcher = self.matcher.as_ref()?;
        let uri: hyper::Uri = url.as_str().parse().ok()?;
        matcher.intercept(&uri)?;
        match url.scheme() {
            "https" => self.https.as_deref(),
            _ => self.http.as_deref(),
        }
    }

    /// The proxy a request to `url` goes through, its password masked: for errors.
    pub fn shown_for(&self, url: &Url) -> Option<String> {
        self.proxy_for(url).map(masked)
    }

    /// The reqwest proxy that applies these settings (nothing when there are none).
    pub fn reqwest_proxy(&self) -> Option<reqwest::Proxy> {
        self.matcher.as_ref()?;
        let me = self.clone();
        Some(reqwest::Proxy::custom(move |url| {
            me.proxy_for(url).map(str::to_string)
        }))
    }
}

impl crate::api::EcsClient {
    /// `base`'s origin, and the proxy requests to it go through: what a connection error
    /// names.
    pub(crate) fn shown_endpoint(&self, base: &crate::api::endpoint::Base) -> String {
        let via = Url::parse(&base.origin)
            .ok()
            .and_then(|url| self.inner.proxies.shown_for(&url));
        match via {
            Some(proxy) => format!("{} through the proxy {proxy}", base.origin),
            None => base.origin.clone(),
        }
    }
}

/// A proxy URL with the password of its user info replaced by `***` (and a bare
/// `host:port` shown as written).
pub fn masked(proxy: &str) -> String {
    let with_scheme = if proxy.contains("://") {
        proxy.to_string()
    } else {
        format!("http://{proxy}")
    };
    match Url::parse(&with_scheme) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string().trim_end_matches('/').to_string()
        }
        Ok(url) => url.to_string().trim_end_matches('/').to_string(),
        Err(_) => "(a proxy URL that does not parse)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn either_case_and_no_proxy() {
        let p = Proxies::from_env(&env(&[
            ("https_proxy", "http://u:pw@proxy:3128"),
            ("NO_PROXY", "internal.example,10.0.0.0/8"),
        ]));
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(
            p.shown_for(&url("https://ecs.cn-north-4.myhuaweicloud.com")),
            Some("http://u:***@proxy:3128".to_string())
        );
        assert_eq!(p.proxy_for(&url("https://iam.internal.example/v3")), None);
        assert_eq!(p.proxy_for(&url("https://10.1.2.3/")), None);
        assert_eq!(
            p.proxy_for(&url("http://ecs.example")),
            None,
            "no HTTP_PROXY"
        );
        assert!(!format!("{p:?}").contains("pw"));
        assert!(Proxies::from_env(&env(&[]))
            .proxy_for(&url("https://x"))
            .is_none());
        assert_eq!(masked("proxy:8080"), "http://proxy:8080");
    }
}
