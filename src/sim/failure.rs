//! A refused request, in one of the two error shapes the real API answers with. Every layer
//! and handler of the API returns one; [`super::answer::failure`] renders it.

/// A simulator error answer, in one of the two real shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// `{"error": {"code", "message", "details"?}}`
    Ecs {
        status: u16,
        code: &'static str,
        message: String,
        details: Vec<(String, String)>,
    },
    /// `{"error_code", "error_msg", "request_id"}`, with `Retry-After` when set.
    Gateway {
        status: u16,
        code: &'static str,
        message: String,
        retry_after: Option<u64>,
    },
}

impl Failure {
    pub fn ecs(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self::ecs_with(status, code, message, Vec::new())
    }

    /// An ECS error with one `(code, message)` detail per item (per server, say).
    pub fn ecs_with(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        details: Vec<(String, String)>,
    ) -> Self {
        Failure::Ecs {
            status,
            code,
            message: message.into(),
            details,
        }
    }

    pub fn gateway(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Failure::Gateway {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A gateway 429 with `Retry-After: retry_after_secs`.
    pub fn throttled(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Failure::Gateway {
            status: 429,
            code: crate::api::codes::THROTTLED,
            message: message.into(),
            retry_after: Some(retry_after_secs),
        }
    }
}
