//! SDK-HMAC-SHA256 verification, as the API gateway does it, with the crate's own signer
//! functions: the canonical request is rebuilt from what was received (method, raw path,
//! decoded query, header values, body bytes) and the signature recomputed.
//!
//! Every refusal is a 401 `APIGW.0301` whose message says what was wrong, and never
//! contains a secret, a token or a signature.

use axum::http::HeaderMap;
use time::OffsetDateTime;

use super::config::SimConfig;
use super::state::Failure;
use crate::api::credentials::HEADER_SECURITY_TOKEN;
use crate::api::signer::{
    canonical_request, parse_query, parse_sdk_date, string_to_sign, verify_signature,
    Authorization, CanonicalInput, HEADER_SDK_DATE,
};

const PREFIX: &str = "Incorrect IAM authentication information";

fn refuse(why: impl AsRef<str>) -> Failure {
    Failure::gateway(401, "APIGW.0301", format!("{PREFIX}: {}", why.as_ref()))
}

/// The parts of a received request the signature covers.
pub struct Received<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies one request against the configured key pair and token. `now` is the
/// simulator's wall clock; `tolerance_secs` the accepted `X-Sdk-Date` skew.
pub fn verify(
    cfg: &SimConfig,
    req: &Received<'_>,
    now: OffsetDateTime,
    tolerance_secs: u64,
) -> Result<(), Failure> {
    let Some(auth_value) = req.headers.get("authorization") else {
        return Err(refuse("the Authorization header is missing"));
    };
    let Ok(auth_value) = auth_value.to_str() else {
        return Err(refuse("the Authorization header is malformed"));
    };
    let Some(auth) = Authorization::parse(auth_value.trim()) else {
        return Err(refuse(
            "the Authorization header is malformed (expected SDK-HMAC-SHA256 \
             Access=…, SignedHeaders=…, Signature=…)",
        ));
    };
    if auth.access_key != cfg.access_key {
        return Err(refuse(format!("ak {} not exist", auth.access_key)));
    }
    let signed: Vec<String> = auth
        .signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for required in ["host", "x-sdk-date"] {
        if !signed.iter().any(|h| h == required) {
            return Err(refuse(format!(
                "verify aksk signature fail: {required} must be a signed header"
            )));
        }
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    for h in &signed {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(h)) {
            return Err(refuse(format!(
                "verify aksk signature fail: signed header {h} is missing from the request"
            )));
        }
    }
    let date = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(HEADER_SDK_DATE))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let Some(when) = parse_sdk_date(&date) else {
        return Err(refuse(
            "x-sdk-date is invalid (expected YYYYMMDDTHHMMSSZ in UTC)",
        ));
    };
    let skew = (now - when).whole_seconds().unsigned_abs();
    if skew > tolerance_secs {
        return Err(refuse(format!(
            "x-sdk-date expired: the request time differs from the server time by {skew} s \
             (more than {tolerance_secs} s)"
        )));
    }
    let query = req.raw_query.map(parse_query).unwrap_or_default();
    let canonical = canonical_request(&CanonicalInput {
        method: req.method,
        path: req.raw_path,
        query: &query,
        headers: &headers,
        signed_headers: &signed,
        body: req.body,
    });
    let sts = string_to_sign(&date, &canonical);
    if !verify_signature(&cfg.secret_key, &sts, &auth.signature) {
        return Err(refuse("verify aksk signature fail"));
    }
    if let Some(token) = &cfg.security_token {
        let sent = req
            .headers
            .get(HEADER_SECURITY_TOKEN)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        match sent {
            None => {
                return Err(refuse(
                    "the security token is missing: temporary credentials need X-Security-Token",
                ))
            }
            Some(t) if !constant_time_eq(t.as_bytes(), token.as_bytes()) => {
                return Err(refuse("the security token is invalid or expired"))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
