//! The signed JSON `POST` both agency calls make (IAM v3 and STS v5): signed with the keys
//! of the hop below, sent with the API's HTTP client (its proxy, CA and client certificate),
//! tried again on a failure that left nothing done (a refused connection, 429, 5xx). Asking
//! for an agency's keys twice only issues two sets, so every such failure may be retried.

use std::time::Duration;

use url::Url;

use super::Credentials;
use crate::api::error::{parse_error_body, ApiError};
use crate::api::proxy::Proxies;
use crate::api::signer::RequestToSign;
use crate::api::transport::{error_chain, header_map, CONTENT_TYPE_JSON_UTF8};
use crate::api::Clock;

/// Attempts per call; the pause between them doubles from [`FIRST_PAUSE`].
const ATTEMPTS: u32 = 3;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where to send, and with what.
pub struct SignedPost<'a> {
    pub http: &'a reqwest::Client,
    pub proxies: &'a Proxies,
    pub clock: &'a Clock,
    /// The endpoint (it may carry a path prefix) and the API path after it.
    pub endpoint: &'a Url,
    pub path: &'a str,
    /// What is being done, the start of every error ("assuming agency A (IAM v3)").
    pub what: &'a str,
}

impl SignedPost<'_> {
    /// The answer's body, for a 2xx.
    pub async fn send(&self, keys: &Credentials, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            match self.attempt(keys, body).await {
                Ok(answer) => return Ok(answer),
                Err((error, retry)) if !retry || attempt >= ATTEMPTS => {
                    return Err(ApiError::Credentials(format!("{}: {error}", self.what)))
                }
                Err((error, _)) => {
                    tracing::debug!(what = self.what, attempt, error = %error, "retrying");
                }
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
            attempt += 1;
        }
    }

    /// One attempt: the body of a 2xx, or the error and whether it may be retried.
    async fn attempt(&self, keys: &Credentials, body: &[u8]) -> Result<Vec<u8>, (String, bool)> {
        let url = self.url();
        let request = self.signed(keys, &url, body).map_err(|e| (e, false))?;
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let via = self
                    .proxies
                    .shown_for(&url)
                    .map(|p| format!(" through the proxy {p}"))
                    .unwrap_or_default();
                let why = format!("POST {url}: could not connect{via}: {}", error_chain(&e));
                return Err((why, e.is_connect() || e.is_timeout()));
            }
        };
        let status = response.status().as_u16();
        let answer = response.bytes().await.map_err(|e| {
            (
                format!("POST {url}: the answer was cut: {}", error_chain(&e)),
                true,
            )
        })?;
        if (200..300).contains(&status) {
            return Ok(answer.to_vec());
        }
        let (code, message) = parse_error_body(status, &answer);
        let retry = status == 429 || status >= 500;
        Err((
            format!("POST {url}: HTTP {status}, {code}: {message}"),
            retry,
        ))
    }

    fn url(&self) -> Url {
        let mut url = self.endpoint.clone();
        let path = format!(
            "{}{}",
            self.endpoint.path().trim_end_matches('/'),
            self.path
        );
        url.set_path(&path);
        url
    }

    fn signed(
        &self,
        keys: &Credentials,
        url: &Url,
        body: &[u8],
    ) -> Result<reqwest::RequestBuilder, String> {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut headers = vec![(
            "Content-Type".to_string(),
            CONTENT_TYPE_JSON_UTF8.to_string(),
        )];
        headers.extend(keys.identity_headers(None));
        let mut req = RequestToSign {
            method: "POST".into(),
            host,
            path: url.path().to_string(),
            query: Vec::new(),
            headers,
            body: body.to_vec(),
        };
        keys.signer().sign(&mut req, self.clock.now());
        let map = header_map(&req.headers).map_err(|e| e.to_string())?;
        Ok(self
            .http
            .post(url.clone())
            .headers(map)
            .timeout(TIMEOUT)
            .body(req.body))
    }
}
