//! One attempt, with one renewal of temporary keys the gateway refused.
//!
//! Temporary keys are refreshed before they expire ([`super::credentials::refreshing`]), so
//! a refusal is rare: a clock far off, keys revoked, a lifetime shorter than announced. A
//! 401 `APIGW.0301` to a request signed with temporary keys renews them (once for all the
//! requests that were refused with the same keys) and sends the request once more. A 401 is
//! the gateway's: the request was not carried out, so even a batch action may be re-sent.
//! Static keys are never renewed: their 401 is the caller's error as before.

use std::time::Duration;

use super::client::EcsClient;
use super::codes;
use super::error::ApiError;
use super::transport::{Answer, Call};

impl EcsClient {
    /// [`EcsClient::attempt`], sent once more with renewed keys after a refusal of
    /// temporary ones.
    pub(super) async fn attempt_renewing(
        &self,
        call: &Call,
        attempt: u32,
        timeout: Duration,
    ) -> Result<Answer, ApiError> {
        let keys = self.inner.source.current().await?;
        match self.attempt(call, attempt, timeout, &keys).await {
            Err(error) if self.inner.source.renews() && is_refusal(&error) => {
                let renewed = self.inner.source.renew(&keys).await?;
                tracing::info!(
                    method = %call.method, path = %self.wire_path(call),
                    "temporary credentials were refused; sending once more with renewed ones"
                );
                self.attempt(call, attempt, timeout, &renewed).await
            }
            other => other,
        }
    }
}

/// The gateway refused the keys (401 `APIGW.0301`).
fn is_refusal(error: &ApiError) -> bool {
    error.status() == Some(401) && error.code() == Some(codes::AUTH_FAILED)
}
