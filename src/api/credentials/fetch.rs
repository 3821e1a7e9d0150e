//! One way of obtaining temporary keys, and the keys it obtains.

use time::OffsetDateTime;

use super::Credentials;
use crate::api::error::ApiError;

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
