//! Every error code this crate reads or writes, in one place: the client, the engine and
//! ecs-sim all name codes through these constants, never as literals. The meanings are
//! Huawei's (`../shared/docs/ecs-api.md` §1.3); where the service's choice is not documented
//! the constant's doc says so.

// ECS service codes, in `{"error": {"code": …}}` bodies and in job and sub-job `error_code`s.

/// Request error; also a job id that does not exist or was purged.
pub const REQUEST_ERROR: &str = "Ecs.0000";
/// Invalid parameter values, or a body that is not valid JSON.
pub const INVALID_PARAMETER: &str = "Ecs.0005";
/// The project id in the token does not match the one in the URL.
pub const PROJECT_MISMATCH: &str = "Ecs.0023";
/// The server's state does not allow the operation (a start of a running server).
pub const STATE_CONFLICT: &str = "Ecs.0100";
/// The server does not exist.
pub const SERVER_NOT_FOUND: &str = "Ecs.0114";
/// The server does not exist (the other spelling the service uses).
pub const SERVER_NOT_FOUND_ALT: &str = "Ecs.0614";
/// More servers in one batch than the service takes (1000).
pub const TOO_MANY_SERVERS: &str = "Ecs.0118";
/// Starting the server failed (a sub-job's code).
pub const START_FAILED: &str = "Ecs.0226";
/// Rebooting the server failed (a sub-job's code).
pub const REBOOT_FAILED: &str = "Ecs.0227";
/// Stopping the server failed (a sub-job's code). The service's code is not documented:
/// this is ecs-sim's choice, the number after start's and reboot's.
pub const STOP_FAILED: &str = "Ecs.0228";
/// Other commands are being executed on the server: retry in a minute.
pub const BUSY: &str = "Ecs.0603";
/// The server is locked.
pub const LOCKED: &str = "Ecs.0605";

// API gateway codes, in `{"error_code": …, "error_msg": …}` bodies.

/// API not found: a wrong host or path.
pub const API_NOT_FOUND: &str = "APIGW.0101";
/// Backend timeout.
pub const BACKEND_TIMEOUT: &str = "APIGW.0201";
/// Backend unavailable.
pub const BACKEND_UNAVAILABLE: &str = "APIGW.0202";
/// Incorrect IAM authentication information (bad key, bad or expired signature).
pub const AUTH_FAILED: &str = "APIGW.0301";
/// The throttling threshold has been reached.
pub const THROTTLED: &str = "APIGW.0308";

// IAM and STS codes, answered by ecs-sim's agency calls. The services' codes for these
// refusals are not in the shared notes: these are ecs-sim's choices.

/// An IAM v3 `securitytokens` request that is not a valid `assume_role`.
pub const IAM_INVALID_REQUEST: &str = "IAM.0001";
/// An STS v5 `agencies/assume` request that is not valid (a bad URN, a duration out of range).
pub const STS_INVALID_REQUEST: &str = "STS.0001";
