//! A local HTTP stub of the ECS and IAM APIs for the client's integration tests.
//!
//! * [`Stub`] (axum, 127.0.0.1:0) records every request and checks its SDK-HMAC-SHA256
//!   signature with the crate's own signer functions, then answers with whatever the test's
//!   responder returns (optionally after a delay).
//! * [`RawStub`] (plain TCP) misbehaves on purpose: it reads a request and then hangs up,
//!   or sends a truncated answer, for the "request sent, answer lost" cases.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use terraform_provider_ecs::api::signer::{
    canonical_request, parse_query, signed_header_names, string_to_sign, verify_signature,
    Authorization, CanonicalInput,
};
use terraform_provider_ecs::api::{
    ClientConfig, Credentials, EcsClient, Endpoints, RetryPolicy, Secret,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub const AK: &str = "TESTAK0000EXAMPLE000";
pub const SK: &str = "TESTSK0000EXAMPLE0000secretkeyEXAMPLE000";
pub const TOKEN: &str = "TESTTOKEN-very-secret-session-token";
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const REGION: &str = "cn-north-4";
pub const USER_AGENT: &str = "terraform-provider-ecs/test (client tests)";

/// Upper bound for "the call ended at once" in tests whose wrong behaviour would take at
/// least 10 s (a 10 s stub delay, a 30 s `Retry-After`, 1000 retries): far above what a
/// loaded CI machine adds to a few milliseconds of work, far below the wrong outcome.
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// Headers the HTTP stack adds after signing; the SDK does not sign them either.
const UNSIGNED_TRANSPORT_HEADERS: &[&str] = &["accept", "content-length", "accept-encoding"];

/// One request as the stub received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The query exactly as on the wire, without `?`.
    pub raw_query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Ok` when the `Authorization` header verifies against [`SK`].
    pub signature: Result<(), String>,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn authorization(&self) -> Option<Authorization> {
        Authorization::parse(self.header("authorization")?)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Verifies a received request's signature the way the API gateway would.
pub fn verify(seen: &Seen) -> Result<(), String> {
    let auth = seen
        .authorization()
        .ok_or_else(|| "no parsable Authorization header".to_string())?;
    if auth.access_key != AK {
        return Err(format!("access key {}", auth.access_key));
    }
    let date = seen
        .header("x-sdk-date")
        .ok_or_else(|| "no X-Sdk-Date".to_string())?;
    for required in ["host", "x-sdk-date"] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    for name in &auth.signed_headers {
        if seen.header_count(name) != 1 {
            return Err(format!(
                "signed header {name} appears {} times",
                seen.header_count(name)
            ));
        }
    }
    // Every header the client itself sent must be signed (as the SDK does): only the
    // transport's own additions may be left out.
    let own: Vec<(String, String)> = seen
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "authorization" && !UNSIGNED_TRANSPORT_HEADERS.contains(&k.as_str())
        })
        .cloned()
        .collect();
    if signed_header_names(&own) != auth.signed_headers {
        return Err(format!(
            "signed headers {:?} but sent {:?}",
            auth.signed_headers,
            signed_header_names(&own)
        ));
    }
    let query = parse_query(seen.raw_query.as_deref().unwrap_or(""));
    let cr = canonical_request(&CanonicalInput {
        method: &seen.method,
        path: &seen.path,
        query: &query,
        headers: &seen.headers,
        signed_headers: &auth.signed_headers,
        body: &seen.body,
    });
    let sts = string_to_sign(date, &cr);
    if verify_signature(&Secret::new(SK), &sts, &auth.signature) {
        Ok(())
    } else {
        Err(format!(
            "signature does not verify; canonical request:\n{cr}"
        ))
    }
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
            delay: None,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: body.as_bytes().to_vec(),
            delay: None,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// `{"job_id": id}` with 200.
    pub fn job_id(id: &str) -> Self {
        Self::json(200, serde_json::json!({ "job_id": id }))
    }

    /// An ECS error body, `{"error": {"code", "message"}}`.
    pub fn ecs_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error": {"code": code, "message": message}}),
        )
    }

    /// An API-gateway error body, `{"error_code", "error_msg", "request_id"}`.
    pub fn gateway_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error_code": code, "error_msg": message,
                               "request_id": "gw-request-id-0001"}),
        )
    }
}

type Responder = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct StubState {
    seen: Mutex<Vec<Seen>>,
    responder: Box<Responder>,
}

/// The recording, signature-checking HTTP stub.
pub struct Stub {
    pub addr: SocketAddr,
    state: Arc<StubState>,
    task: JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(state): State<Arc<StubState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().map(str::to_string),
        headers,
        body,
        signature: Ok(()),
        at: Instant::now(),
    };
    seen.signature = verify(&seen);
    let index = {
        let mut all = state.seen.lock().expect("stub lock");
        all.push(seen.clone());
        all.len() - 1
    };
    let reply = (state.responder)(&seen, index);
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(reply.status).expect("valid status in test"));
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Body::from(reply.body))
        .expect("valid response in test")
}

impl Stub {
    /// Starts a stub; `responder(request, index)` gets every request with its 0-based index.
    pub async fn start(responder: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let state = Arc::new(StubState {
            seen: Mutex::new(Vec::new()),
            responder: Box::new(responder),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
        let addr = listener.local_addr().expect("stub address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// A stub that plays `replies` in order, repeating the last one.
    pub async fn sequence(replies: Vec<Reply>) -> Self {
        Self::start(move |_, i| replies[i.min(replies.len() - 1)].clone()).await
    }

    /// A stub that plays a script per path (each repeating its last reply); other paths 404.
    pub async fn per_path(scripts: Vec<(String, Vec<Reply>)>) -> Self {
        let scripts: HashMap<String, Vec<Reply>> = scripts.into_iter().collect();
        let counts: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
        Self::start(move |seen, _| {
            let Some(script) = scripts.get(&seen.path) else {
                return Reply::ecs_error(404, "APIGW.0101", "no such path in the stub");
            };
            let mut counts = counts.lock().expect("counts lock");
            let n = counts.entry(seen.path.clone()).or_insert(0);
            let reply = script[(*n).min(script.len() - 1)].clone();
            *n += 1;
            reply
        })
        .await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("stub lock").clone()
    }

    pub fn count(&self) -> usize {
        self.state.seen.lock().expect("stub lock").len()
    }

    /// Asserts that every request so far carried a valid signature.
    pub fn assert_all_signed(&self) {
        for (i, s) in self.seen().iter().enumerate() {
            if let Err(e) = &s.signature {
                panic!("request {i} ({} {}): {e}", s.method, s.path);
            }
        }
    }
}

/// How [`RawStub`] misbehaves after reading a whole request.
#[derive(Debug, Clone, Copy)]
pub enum Misbehave {
    /// Closes the connection without a byte of answer.
    HangUp,
    /// Sends a 200 status line and half of a declared body, then closes.
    TruncatedBody,
}

/// A TCP server that reads requests and misbehaves; counts the requests it read.
pub struct RawStub {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for RawStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawStub {
    pub async fn start(mode: Misbehave) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind raw stub");
        let addr = listener.local_addr().expect("raw stub address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut socket).await else {
                        return;
                    };
                    log.lock().expect("raw lock").push(head);
                    if let Misbehave::TruncatedBody = mode {
                        let _ = socket
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                  content-length: 100\r\n\r\n{\"job_id\": \"abc",
                            )
                            .await;
                        let _ = socket.flush().await;
                    }
                    // Dropping the socket closes the connection.
                });
            }
        });
        Self {
            addr,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request heads read so far (request line and headers).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("raw lock").clone()
    }
}

/// Reads one request (head and a `content-length` body); returns its head.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// Retries every millisecond or so: tests run fast.
pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

/// A client configuration pointing both endpoints at `url`.
pub fn config(url: &str) -> ClientConfig {
    ClientConfig {
        credentials: Credentials::new(AK, SK),
        region: REGION.into(),
        project_id: Some(PROJECT.into()),
        endpoints: Endpoints::for_region(REGION, Some(url), Some(url)).expect("stub endpoints"),
        insecure: false,
        retry: fast_retry(3),
        request_timeout: Duration::from_secs(5),
        user_agent: USER_AGENT.into(),
    }
}

pub fn client(url: &str) -> EcsClient {
    EcsClient::new(config(url)).expect("client builds")
}

pub fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn action_path() -> String {
    format!("/v1/{PROJECT}/cloudservers/action")
}

pub fn job_path(job: &str) -> String {
    format!("/v1/{PROJECT}/jobs/{job}")
}

/// A URL on which nothing listens (connection refused).
pub async fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}
