//! Where the keys that sign each request come from, and keeping temporary ones fresh.
//!
//! A [`Chain`] says what the user configured: a base (static keys, or the ECS instance
//! metadata when there are none) and zero or more agencies to assume from it, in order.
//! [`Source::build`] turns it into the runtime [`Source`] the client asks before every
//! attempt (job polls in flight included):
//!
//! - static keys are returned as they are ([`Credentials`]);
//! - temporary keys ([`metadata`], [`assume_role`]) sit in a [`Refreshing`] cache, fetched
//!   again once a third of their lifetime is left (at most ten minutes before they expire),
//!   by one caller while the others wait (single flight). A failed refresh keeps using the
//!   cached keys until they expire, then reports the failure;
//! - an agency hop assumes its agency with the keys of the hop below, asked for afresh each
//!   time: a refresh of the top re-derives the whole chain from its base, so the identity
//!   that signs never switches (Huawei's provider replaces assumed keys by the base's own
//!   when it reloads metadata keys).
//!
//! When the gateway refuses temporary keys anyway (401 `APIGW.0301`, a clock far off, keys
//! revoked), the client renews them once and sends the request again ([`Source::renew`]).
//!
//! One file per concept: `keys` (the AK/SK/token of one request), `profile` (KooCLI's
//! `config.json`), `metadata` (the instance metadata), `assume_role` (IAM v3 and STS v5),
//! `signed_post` (the signed JSON POST both agency calls make), `refreshing` (the cache).
//! Secrets never leave as text: keys, tokens and the metadata token are [`Secret`]s, and no
//! error quotes an answer's body when it could hold keys.
//!
//! [`Secret`]: crate::api::Secret

pub mod assume_role;
pub mod keys;
pub mod metadata;
pub mod profile;
pub mod refreshing;
mod signed_post;

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

pub use assume_role::{AssumeRole, AssumeRoleFetch};
pub use keys::{Credentials, HEADER_PROJECT_ID, HEADER_SECURITY_TOKEN};
pub use metadata::MetadataFetch;
pub use profile::{read_profile, Profile};
pub use refreshing::Refreshing;

use super::error::ApiError;

/// Where the base keys come from.
#[derive(Debug, Clone)]
pub enum Base {
    /// Keys given in the configuration, a profile or the environment.
    Keys(Credentials),
    /// The ECS instance metadata (an instance with an agency attached).
    Metadata,
}

/// What the user configured: a base and the agencies to assume from it, in order.
#[derive(Debug, Clone)]
pub struct Chain {
    pub base: Base,
    pub assume_role: Vec<AssumeRole>,
}

impl Chain {
    /// Static keys and nothing else.
    pub fn keys(credentials: Credentials) -> Self {
        Self {
            base: Base::Keys(credentials),
            assume_role: Vec::new(),
        }
    }
}

/// Keys as issued, with when they stop working (`None`: never).
#[derive(Debug, Clone)]
pub struct Issued {
    pub credentials: Credentials,
    pub expires_at: Option<OffsetDateTime>,
}

/// One way of obtaining temporary keys: a metadata read, an agency assumed.
#[async_trait::async_trait]
pub trait Fetch: Send + Sync {
    /// New keys. Errors say where they were asked for, never what came back.
    async fn fetch(&self) -> Result<Issued, ApiError>;
    /// Where the keys come from, for logs and errors (no secret).
    fn describe(&self) -> String;
}

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
    pub proxies: super::proxy::Proxies,
    pub iam: url::Url,
    pub sts: url::Url,
    pub metadata: url::Url,
    pub clock: super::Clock,
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
