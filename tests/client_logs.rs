//! The client's debug logs name each call and never a secret.
//!
//! A test binary of its own, apart from `tests/it/`: a thread-local tracing subscriber
//! misses events when other tests run in parallel and register the same callsites first
//! (tracing caches each callsite's interest for the whole process), and a global one would
//! capture every other test's logs. It mounts the client tests' stub from `tests/it/`.

#[allow(dead_code)]
#[path = "it/support/stub.rs"]
mod stub;

use std::sync::Arc;

use stub::*;
use terraform_provider_ecs::api::{Credentials, EcsClient};

#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn debug_logs_name_the_call_but_no_secret() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stub = Stub::sequence(vec![
        Reply::gateway_error(429, "APIGW.0308", "throttled"),
        Reply::job_id("job-logged").header("X-Request-Id", "rid-log"),
    ])
    .await;
    let mut cfg = config(&stub.url());
    cfg.credentials = Credentials::new(AK, SK).with_security_token(TOKEN);
    EcsClient::new(cfg)
        .expect("client")
        .batch_start(&ids(&["a"]))
        .await
        .expect("job");
    let signatures: Vec<String> = stub
        .seen()
        .iter()
        .filter_map(|s| s.authorization())
        .map(|a| a.signature)
        .collect();
    let text = String::from_utf8_lossy(&logs.0.lock().expect("log lock")).into_owned();
    assert!(text.contains("POST"), "{text}");
    assert!(text.contains(&action_path()), "{text}");
    assert!(text.contains("rid-log"), "{text}");
    assert!(text.contains("429") && text.contains("200"), "{text}");
    assert!(text.contains("attempt"), "{text}");
    for secret in [SK, TOKEN, "Signature=", "SDK-HMAC-SHA256"] {
        assert!(!text.contains(secret), "{secret} in logs:\n{text}");
    }
    for signature in signatures {
        assert!(
            !text.contains(&signature),
            "a signature is in the logs:\n{text}"
        );
    }
}
