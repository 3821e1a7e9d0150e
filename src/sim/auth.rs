//! SDK-HMAC-SHA256 verification, as the API gateway does it, with the crate's own signer
//! functions: the canonical request is rebuilt from what was received (method, raw path,
//! decoded query, header values, body bytes) and the signature recomputed.
//!
//! The keys are the configured ones or temporary keys ecs-sim issued
//! ([`super::identities`]); temporary keys are refused once expired.
//!
//! Every refusal is a 401 `APIGW.0301` whose message says what was wrong, and never
//! contains a secret, a token or a signature.

use axum::http::HeaderMap;
use time::OffsetDateTime;

use super::config::SimConfig;
use super::failure::Failure;
use super::identities::{Caller, Identities, CONFIGURED};
use crate::api::codes::AUTH_FAILED;
use crate::api::credentials::HEADER_SECURITY_TOKEN;
use crate::api::secret::Secret;
use crate::api::signer::{
    canonical_request, parse_query, parse_sdk_date, string_to_sign, verify_signature,
    Authorization, CanonicalInput, HEADER_SDK_DATE,
};

const PREFIX: &str = "Incorrect IAM authentication information";

fn refuse(why: impl AsRef<str>) -> Failure {
    Failure::gateway(401, AUTH_FAILED, format!("{PREFIX}: {}", why.as_ref()))
}

/// The parts of a received request the signature covers.
pub struct Received<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The keys an access key stands for.
struct SigningKey {
    secret_key: Secret,
    token: Option<String>,
    expires_at: Option<OffsetDateTime>,
    principal: String,
}

/// The configured keys, or temporary keys ecs-sim issued.
fn signing_key(cfg: &SimConfig, issued: &Identities, access_key: &str) -> Option<SigningKey> {
    if access_key == cfg.access_key {
        return Some(SigningKey {
            secret_key: cfg.secret_key.clone(),
            token: cfg.security_token.clone(),
            expires_at: None,
            principal: CONFIGURED.to_string(),
        });
    }
    issued.find(access_key).map(|k| SigningKey {
        secret_key: k.secret_key,
        token: Some(k.token),
        expires_at: Some(k.expires_at),
        principal: k.principal,
    })
}

/// Verifies one request against the configured key pair and token, or temporary keys
/// ecs-sim issued, and says who signed it. `now` is the simulator's wall clock (shifted by
/// `clock_offset_secs`); `tolerance_secs` the accepted `X-Sdk-Date` skew. The checks run
/// in this order, and the first that fails names the refusal.
pub fn verify(
    cfg: &SimConfig,
    issued: &Identities,
    req: &Received<'_>,
    now: OffsetDateTime,
    tolerance_secs: u64,
) -> Result<Caller, Failure> {
    let auth = authorization(req.headers)?;
    let Some(key) = signing_key(cfg, issued, &auth.access_key) else {
        return Err(refuse(format!("ak {} not exist", auth.access_key)));
    };
    let signed = signed_headers(&auth)?;
    let headers = received_headers(req.headers);
    check_signed_headers_sent(&signed, &headers)?;
    let date = check_date(&headers, now, tolerance_secs)?;
    check_signature(&key.secret_key, req, &auth, &signed, &headers, &date)?;
    check_security_token(key.token.as_deref(), req.headers)?;
    if let Some(end) = key
        .expires_at
        .filter(|end| OffsetDateTime::now_utc() >= *end)
    {
        issued.count_expired_refusal();
        return Err(refuse(format!(
            "the security token expired at {end} (temporary credentials live until then)"
        )));
    }
    Ok(Caller {
        temporary: key.expires_at.is_some() || key.token.is_some(),
        principal: key.principal,
    })
}

/// The parsed `Authorization` header.
fn authorization(headers: &HeaderMap) -> Result<Authorization, Failure> {
    let Some(value) = headers.get("authorization") else {
        return Err(refuse("the Authorization header is missing"));
    };
    let Ok(value) = value.to_str() else {
        return Err(refuse("the Authorization header is malformed"));
    };
    Authorization::parse(value.trim()).ok_or_else(|| {
        refuse(
            "the Authorization header is malformed (expected SDK-HMAC-SHA256 \
             Access=…, SignedHeaders=…, Signature=…)",
        )
    })
}

/// The signed header names, lower-cased; `host` and `x-sdk-date` must be among them.
fn signed_headers(auth: &Authorization) -> Result<Vec<String>, Failure> {
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
    Ok(signed)
}

/// Every received header as (name, value), values read lossily.
fn received_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Every signed header must have been sent.
fn check_signed_headers_sent(
    signed: &[String],
    headers: &[(String, String)],
) -> Result<(), Failure> {
    match signed
        .iter()
        .find(|h| !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(h)))
    {
        Some(h) => Err(refuse(format!(
            "verify aksk signature fail: signed header {h} is missing from the request"
        ))),
        None => Ok(()),
    }
}

/// `X-Sdk-Date` as sent, when it parses and is within `tolerance_secs` of `now`.
fn check_date(
    headers: &[(String, String)],
    now: OffsetDateTime,
    tolerance_secs: u64,
) -> Result<String, Failure> {
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
    Ok(date)
}

/// Rebuilds the canonical request from what was received and compares signatures.
fn check_signature(
    secret_key: &Secret,
    req: &Received<'_>,
    auth: &Authorization,
    signed: &[String],
    headers: &[(String, String)],
    date: &str,
) -> Result<(), Failure> {
    let query = req.raw_query.map(parse_query).unwrap_or_default();
    let canonical = canonical_request(&CanonicalInput {
        method: req.method,
        path: req.raw_path,
        query: &query,
        headers,
        signed_headers: signed,
        body: req.body,
    });
    let sts = string_to_sign(date, &canonical);
    if !verify_signature(secret_key, &sts, &auth.signature) {
        return Err(refuse("verify aksk signature fail"));
    }
    Ok(())
}

/// When the keys have a security token, the request must carry the same one.
fn check_security_token(token: Option<&str>, headers: &HeaderMap) -> Result<(), Failure> {
    let Some(token) = token else {
        return Ok(());
    };
    let sent = headers
        .get(HEADER_SECURITY_TOKEN)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match sent {
        None => Err(refuse(
            "the security token is missing: temporary credentials need X-Security-Token",
        )),
        Some(t) if !constant_time_eq(t.as_bytes(), token.as_bytes()) => {
            Err(refuse("the security token is invalid or expired"))
        }
        Some(_) => Ok(()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
