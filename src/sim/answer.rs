//! Building the API's answers: JSON bodies, and a [`Failure`] in its real shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::failure::Failure;
use crate::api::models::{EcsErrorBody, EcsErrorDetail, EcsErrorItem, GatewayErrorBody};

const JSON: &str = "application/json;charset=UTF-8";

/// `value` as a JSON body with `status`.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => raw(status, body),
        Err(e) => raw(500, format!("{{\"error\":\"{e}\"}}").into_bytes()),
    }
}

/// `body` as it is, labelled JSON.
pub fn raw(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
}

/// The error answer in its real shape; gateway bodies repeat the request id.
pub fn failure(f: &Failure, request_id: &str) -> Response {
    match f {
        Failure::Ecs {
            status,
            code,
            message,
            details,
        } => {
            let details = details
                .iter()
                .map(|(c, m)| EcsErrorItem {
                    code: c.clone(),
                    message: m.clone(),
                })
                .collect::<Vec<_>>();
            let error = EcsErrorDetail {
                code: code.to_string(),
                message: message.clone(),
                details: (!details.is_empty()).then_some(details),
            };
            json(*status, &EcsErrorBody { error })
        }
        Failure::Gateway {
            status,
            code,
            message,
            retry_after,
        } => {
            let body = GatewayErrorBody {
                error_code: code.to_string(),
                error_msg: message.clone(),
                request_id: request_id.to_string(),
            };
            let mut r = json(*status, &body);
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}
