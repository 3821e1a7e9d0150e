//! SDK-HMAC-SHA256, the request signature of Huawei Cloud's API gateway, exactly as
//! `huaweicloudsdkcore`'s `Signer` computes it (`docs/ecs-api.md` §4 in the shared notes).
//!
//! The functions that build each canonical part are public because ecs-sim verifies
//! signatures with the very same code the client signs with: one implementation, so the
//! two can never disagree about a byte.

use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::{format_description::BorrowedFormatItem, macros::format_description, OffsetDateTime};

use super::secret::Secret;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const HEADER_SDK_DATE: &str = "X-Sdk-Date";
pub const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `YYYYMMDDTHHMMSSZ`, UTC, as in the `X-Sdk-Date` header.
pub const SDK_DATE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Python's `quote(s, safe='~')`: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded
/// as upper-case `%XX` of its UTF-8 bytes; a space is `%20`, never `+`.
const SDK_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment or query component the way the SDK does.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, SDK_ENCODE_SET).to_string()
}

/// Formats a time as an `X-Sdk-Date` value.
pub fn format_sdk_date(t: OffsetDateTime) -> String {
    // The format has no component that can fail for a UTC date after year 0.
    t.to_offset(time::UtcOffset::UTC)
        .format(SDK_DATE_FORMAT)
        .unwrap_or_default()
}

/// Parses an `X-Sdk-Date` value.
pub fn parse_sdk_date(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, SDK_DATE_FORMAT)
        .ok()
        .map(|t| t.assume_utc())
}

/// CanonicalURI: decode the path, encode each segment, and end it with exactly one `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut out = decoded
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// CanonicalQueryString, which is also the query string sent on the wire.
///
/// The pairs are sorted on their raw, un-encoded strings (key, then value) *before* encoding:
/// the SDK's quirk, unlike AWS SigV4 (vector `signer_query_raw_sort_quirk`).
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a wire query string into raw pairs (for the simulator's verification).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode_str(k).decode_utf8_lossy().into_owned(),
                percent_decode_str(v).decode_utf8_lossy().into_owned(),
            )
        })
        .collect()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The names of the headers that get signed: every name without `_`, lower-cased, sorted.
pub fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| !k.contains('_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The parts of a request that the signature covers.
pub struct CanonicalInput<'a> {
    pub method: &'a str,
    /// The resource path as sent on the wire (percent-encoded, without the added `/`).
    pub path: &'a str,
    pub query: &'a [(String, String)],
    /// Every header of the request; only those in `signed_headers` are used.
    pub headers: &'a [(String, String)],
    pub signed_headers: &'a [String],
    pub body: &'a [u8],
}

/// Builds the CanonicalRequest (§4.1 step 11).
pub fn canonical_request(input: &CanonicalInput<'_>) -> String {
    let mut canonical_headers = String::new();
    for name in input.signed_headers {
        let value = header_value(input.headers, name).unwrap_or("").trim();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let payload_hash = if input.body.is_empty() {
        EMPTY_BODY_SHA256.to_string()
    } else if let Some(h) = header_value(input.headers, HEADER_CONTENT_SHA256) {
        h.to_string()
    } else {
        sha256_hex(input.body)
    };
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        canonical_uri(input.path),
        canonical_query(input.query),
        canonical_headers,
        input.signed_headers.join(";"),
        payload_hash
    )
}

/// StringToSign (§4.1 step 12).
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn mac(secret_key: &Secret, string_to_sign: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.expose().as_bytes())
        .expect("HMAC-SHA256 takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret key as is (no derivation).
pub fn signature_hex(secret_key: &Secret, string_to_sign: &str) -> String {
    hex::encode(mac(secret_key, string_to_sign).finalize().into_bytes())
}

/// Checks a hex signature in constant time.
pub fn verify_signature(secret_key: &Secret, string_to_sign: &str, signature: &str) -> bool {
    match hex::decode(signature) {
        Ok(bytes) => mac(secret_key, string_to_sign).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// A parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("access_key", &self.access_key)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

impl Authorization {
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header.strip_prefix(ALGORITHM)?.trim_start();
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            match k {
                "Access" => access = Some(v.to_string()),
                "SignedHeaders" => signed = Some(v.split(';').map(str::to_string).collect()),
                "Signature" => signature = Some(v.to_string()),
                _ => return None,
            }
        }
        Some(Self {
            access_key: access?,
            signed_headers: signed?,
            signature: signature?,
        })
    }

    pub fn render(&self) -> String {
        format!(
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
            self.access_key,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// A request on its way to being signed. `sign` completes its headers in place.
#[derive(Clone)]
pub struct RequestToSign {
    pub method: String,
    /// The URL authority, with `:port` if the URL has one.
    pub host: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Every intermediate value of one signature, for tests and debugging.
/// `Debug` leaves out the signature: it is a credential for 15 minutes.
#[derive(Clone)]
pub struct SigningDetails {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
    pub canonical_query: String,
}

impl fmt::Debug for SigningDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningDetails")
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Signs requests with one access key / secret key pair.
#[derive(Clone)]
pub struct Signer {
    access_key: String,
    secret_key: Secret,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .finish()
    }
}

impl Signer {
    pub fn new(access_key: impl Into<String>, secret_key: Secret) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key,
        }
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// Signs `req` as the SDK does (§4.1): sets `X-Sdk-Date` from `now` unless present,
    /// `Host` unless present, the content-hash header for non-JSON bodies, trims every
    /// header value, and appends `Authorization`.
    pub fn sign(&self, req: &mut RequestToSign, now: OffsetDateTime) -> SigningDetails {
        if let Some(ct) = header_value(&req.headers, "content-type") {
            if !(ct.starts_with("application/json") || ct.starts_with("application/bson"))
                && header_value(&req.headers, HEADER_CONTENT_SHA256).is_none()
            {
                req.headers
                    .push((HEADER_CONTENT_SHA256.into(), "UNSIGNED-PAYLOAD".into()));
            }
        }
        let date = match header_value(&req.headers, HEADER_SDK_DATE) {
            Some(d) => d.trim().to_string(),
            None => {
                let d = format_sdk_date(now);
                req.headers.push((HEADER_SDK_DATE.into(), d.clone()));
                d
            }
        };
        if header_value(&req.headers, "host").is_none() {
            req.headers.push(("Host".into(), req.host.clone()));
        }
        for (_, v) in req.headers.iter_mut() {
            let trimmed = v.trim();
            if trimmed.len() != v.len() {
                *v = trimmed.to_string();
            }
        }
        let signed = signed_header_names(&req.headers);
        let canonical_request = canonical_request(&CanonicalInput {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers: &req.headers,
            signed_headers: &signed,
            body: &req.body,
        });
        let string_to_sign = string_to_sign(&date, &canonical_request);
        let signature = signature_hex(&self.secret_key, &string_to_sign);
        let auth = Authorization {
            access_key: self.access_key.clone(),
            signed_headers: signed,
            signature,
        };
        let authorization = auth.render();
        req.headers
            .push(("Authorization".into(), authorization.clone()));
        SigningDetails {
            canonical_request,
            string_to_sign,
            signed_headers: auth.signed_headers.join(";"),
            signature: auth.signature,
            authorization,
            canonical_query: canonical_query(&req.query),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_adds_one_trailing_slash() {
        assert_eq!(canonical_uri("/v1/p/jobs/x"), "/v1/p/jobs/x/");
        assert_eq!(canonical_uri("/v1/p/detail/"), "/v1/p/detail/");
        assert_eq!(canonical_uri("/v1/p/jobs/a%20b:c"), "/v1/p/jobs/a%20b%3Ac/");
    }

    #[test]
    fn query_sorts_raw_then_encodes() {
        let q = [("k", "["), ("k", "A"), ("k", "é"), ("k", "z")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(canonical_query(&q), "k=A&k=%5B&k=z&k=%C3%A9");
        assert_eq!(parse_query("k=A&k=%5B&k=z&k=%C3%A9")[3].1, "é");
    }

    #[test]
    fn authorization_round_trips_and_debug_hides_signature() {
        let a = Authorization::parse(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abcd",
        )
        .expect("parses");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(
            a.render(),
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abcd"
        );
        assert!(!format!("{a:?}").contains("abcd"));
        assert!(Authorization::parse("Bearer x").is_none());
    }

    #[test]
    fn sdk_date_round_trips() {
        let t = parse_sdk_date("20240102T030405Z").expect("parses");
        assert_eq!(format_sdk_date(t), "20240102T030405Z");
        assert!(parse_sdk_date("2024-01-02").is_none());
    }

    #[test]
    fn signer_debug_redacts_secret() {
        let s = Signer::new("AK", Secret::new("super-secret-value"));
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
