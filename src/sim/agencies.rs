//! The agency calls: IAM v3 `POST /v3.0/OS-CREDENTIAL/securitytokens` (`assume_role`) and
//! STS v5 `POST /v5/agencies/assume`, answered with temporary keys for the principal
//! `{caller} > {domain}/{agency}` ([`super::identities`]). Any agency of any domain may be
//! assumed; the request is checked as the APIs document it: v3 needs `methods` with
//! `assume_role`, an agency name and a domain; v5 an `agency_urn` of the form
//! `iam::{domain_id}:agency:{name}`; `duration_seconds` from 900 to 86400 (v3) or 43200 (v5),
//! and at most 3600 for a v5 caller that signs with temporary keys.

use axum::response::Response;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use super::answer;
use super::failure::Failure;
use super::identities::{Caller, TemporaryKey, CONFIGURED};
use super::routes::Route;
use super::Sim;
use crate::api::codes::{IAM_INVALID_REQUEST, STS_INVALID_REQUEST};

/// The lifetime asked for when a request gives none.
const DEFAULT_DURATION_SECS: u64 = 900;
/// The most a v5 caller with temporary keys may ask for.
const MAX_CHAINED_V5_SECS: u64 = 3600;

/// Answers either agency call.
pub fn assume(
    sim: &Sim,
    route: &Route,
    caller: Option<Caller>,
    body: &[u8],
) -> Result<Response, Failure> {
    let caller = caller.unwrap_or(Caller {
        principal: CONFIGURED.into(),
        temporary: false,
    });
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let v5 = *route == Route::AssumeAgency;
    let request = if v5 {
        v5_request(&body, &caller)?
    } else {
        v3_request(&body)?
    };
    let principal = format!(
        "{} > {}/{}",
        caller.principal, request.domain, request.agency
    );
    let knob = sim.lock().knobs.credential_lifetime_secs;
    let lifetime = if knob > 0 { knob } else { request.duration };
    let key = sim.identities.issue(&principal, lifetime);
    Ok(answer::json(
        if v5 { 200 } else { 201 },
        &keys_body(&key, v5),
    ))
}

struct Request {
    agency: String,
    domain: String,
    duration: u64,
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn duration(v: &Value, pointer: &str, max: u64, code: &'static str) -> Result<u64, Failure> {
    let Some(d) = v.pointer(pointer) else {
        return Ok(DEFAULT_DURATION_SECS);
    };
    match d.as_u64() {
        Some(d) if (900..=max).contains(&d) => Ok(d),
        _ => Err(Failure::ecs(
            400,
            code,
            format!("duration_seconds must be between 900 and {max}"),
        )),
    }
}

fn v3_request(body: &Value) -> Result<Request, Failure> {
    let invalid = |m: &str| Failure::ecs(400, IAM_INVALID_REQUEST, m.to_string());
    let methods = body
        .pointer("/auth/identity/methods")
        .and_then(Value::as_array);
    if !methods.is_some_and(|m| m.iter().any(|x| x == "assume_role")) {
        return Err(invalid(
            "auth.identity.methods must include \"assume_role\"",
        ));
    }
    let role = "/auth/identity/assume_role";
    let agency = text(body, &format!("{role}/agency_name"))
        .ok_or_else(|| invalid("agency_name is required"))?;
    let domain = text(body, &format!("{role}/domain_name"))
        .or_else(|| text(body, &format!("{role}/domain_id")))
        .ok_or_else(|| invalid("domain_name or domain_id is required"))?;
    Ok(Request {
        agency: agency.into(),
        domain: domain.into(),
        duration: duration(
            body,
            &format!("{role}/duration_seconds"),
            86400,
            IAM_INVALID_REQUEST,
        )?,
    })
}

fn v5_request(body: &Value, caller: &Caller) -> Result<Request, Failure> {
    let invalid = |m: String| Failure::gateway(400, STS_INVALID_REQUEST, m);
    let urn = text(body, "/agency_urn").unwrap_or_default();
    let parts: Vec<&str> = urn.split(':').collect();
    let ["iam", "", domain, "agency", agency] = parts[..] else {
        return Err(invalid(format!(
            "agency_urn {urn:?} is not iam::{{domain_id}}:agency:{{name}}"
        )));
    };
    if domain.is_empty() || agency.is_empty() || text(body, "/agency_session_name").is_none() {
        return Err(invalid(
            "agency_urn and agency_session_name are required".into(),
        ));
    }
    let duration = duration(body, "/duration_seconds", 43200, STS_INVALID_REQUEST)?;
    if caller.temporary && duration > MAX_CHAINED_V5_SECS {
        return Err(invalid(format!(
            "duration_seconds must be at most {MAX_CHAINED_V5_SECS} with temporary credentials"
        )));
    }
    Ok(Request {
        agency: agency.into(),
        domain: domain.into(),
        duration,
    })
}

fn keys_body(key: &TemporaryKey, v5: bool) -> Value {
    let expires = key.expires_at.format(&Rfc3339).unwrap_or_default();
    if v5 {
        json!({"credentials": {"access_key_id": key.access_key,
            "secret_access_key": key.secret_key.expose(), "security_token": key.token,
            "expiration": expires}})
    } else {
        json!({"credential": {"access": key.access_key, "secret": key.secret_key.expose(),
            "securitytoken": key.token, "expires_at": expires}})
    }
}
