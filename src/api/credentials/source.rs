//! The runtime source of a client's keys: static keys, or a cache of temporary ones over a
//! chain of fetches.

use std::fmt;
use std::sync::Arc;

use super::{AssumeRoleFetch, Base, Chain, Credentials, MetadataFetch, Refreshing};
use crate::api::error::ApiError;

/// The keys a client signs with, asked for before every attempt. Cheap to clone.
#[derive(Clone)]
pub enum Source {
    Static(Credentials),
    Refreshing(Arc<Refreshing>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Static(keys) => f
                .debug_struct("Static")
                .field("access_key", &keys.access_key)
                .finish_non_exhaustive(),
            Source::Refreshing(r) => f.debug_tuple("Refreshing").field(&r.describe()).finish(),
        }
    }
}

impl Source {
    /// The keys to sign the next request with, refreshed first when they are due.
    pub async fn current(&self) -> Result<Credentials, ApiError> {
        match self {
            Source::Static(keys) => Ok(keys.clone()),
            Source::Refreshing(r) => r.current().await,
        }
    }

    /// Whether these keys are temporary, and can be renewed after a refusal.
    pub fn renews(&self) -> bool {
        matches!(self, Source::Refreshing(_))
    }

    /// After `refused` were refused: new keys, fetched once however many requests report
    /// the same refused keys (a caller that finds newer keys already cached just uses them).
    pub async fn renew(&self, refused: &Credentials) -> Result<Credentials, ApiError> {
        match self {
            Source::Static(keys) => Ok(keys.clone()),
            Source::Refreshing(r) => r.renew(refused).await,
        }
    }
}

/// What turning a [`Chain`] into a [`Source`] needs: the HTTP clients and where IAM, STS
/// and the metadata live.
pub struct Context {
    /// The API client (proxy, CA and client certificate applied), for IAM and STS.
    pub http: reqwest::Client,
    /// The metadata client: no proxy, a short timeout.
    pub metadata_http: reqwest::Client,
    /// The proxies `http` uses, to name them in errors.
    pub proxies: crate::api::proxy::Proxies,
    pub iam: url::Url,
    pub sts: url::Url,
    pub metadata: url::Url,
    pub clock: crate::api::Clock,
}

impl Source {
    /// The runtime source of `chain`: each temporary hop in its own cache, each agency hop
    /// over the one below.
    pub fn build(chain: &Chain, cx: &Context) -> Source {
        let mut source = match &chain.base {
            Base::Keys(keys) => Source::Static(keys.clone()),
            Base::Metadata => Source::Refreshing(Arc::new(Refreshing::new(Box::new(
                MetadataFetch::new(cx.metadata_http.clone(), cx.metadata.clone()),
            )))),
        };
        for role in &chain.assume_role {
            let fetch = AssumeRoleFetch::new(role.clone(), source, cx);
            source = Source::Refreshing(Arc::new(Refreshing::new(Box::new(fetch))));
        }
        source
    }
}
