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
//! One file per concept: `chain` (what was configured), `source` (what the client asks),
//! `keys` (the AK/SK/token of one request), `fetch` (one way of obtaining temporary keys),
//! `profile` (KooCLI's `config.json`), `metadata` (the instance metadata), `assume_role`
//! (IAM v3 and STS v5), `signed_post` (the signed JSON POST both agency calls make),
//! `refreshing` (the cache).
//! Secrets never leave as text: keys, tokens and the metadata token are [`Secret`]s, and no
//! error quotes an answer's body when it could hold keys.
//!
//! [`Secret`]: crate::api::Secret

pub mod assume_role;
mod chain;
mod fetch;
pub mod keys;
pub mod metadata;
pub mod profile;
pub mod refreshing;
mod signed_post;
mod source;

pub use assume_role::{AssumeRole, AssumeRoleFetch};
pub use chain::{Base, Chain};
pub use fetch::{Fetch, Issued};
pub use keys::{Credentials, HEADER_PROJECT_ID, HEADER_SECURITY_TOKEN};
pub use metadata::MetadataFetch;
pub use profile::{read_profile, Profile};
pub use refreshing::Refreshing;
pub use source::{Context, Source};
