//! A Terraform `http` state backend on loopback, holding each state in memory.
//!
//! CI pipelines keep their state remotely (a runner's disk does not outlive the job), and a
//! remote backend changes what Terraform does after each resource: the local backend writes
//! the whole `terraform.tfstate` after every resource, a remote one keeps the state in
//! memory and uploads it at intervals and at the end. The benchmark's rows with "remote
//! state" measure that case; the others use the local backend.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

type States = Arc<Mutex<HashMap<String, Bytes>>>;

/// The backend, served until dropped.
pub struct StateBackend {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl StateBackend {
    pub fn start() -> StateBackend {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let app = Router::new()
            .route("/state/:name", get(read).post(write))
            // A state of 100,000 servers is about 11 MB.
            .layer(DefaultBodyLimit::disable())
            .with_state(States::default());
        runtime.spawn(async move { axum::serve(listener, app).await });
        StateBackend {
            url,
            _runtime: runtime,
        }
    }

    /// A `terraform` block that keeps the state `name` here.
    pub fn hcl(&self, name: &str) -> String {
        format!(
            "terraform {{\n  backend \"http\" {{\n    address = \"{}/state/{name}\"\n  }}\n}}\n",
            self.url
        )
    }
}

async fn read(State(states): State<States>, Path(name): Path<String>) -> (StatusCode, Bytes) {
    match states.lock().expect("states").get(&name) {
        Some(body) => (StatusCode::OK, body.clone()),
        None => (StatusCode::NOT_FOUND, Bytes::new()),
    }
}

async fn write(State(states): State<States>, Path(name): Path<String>, body: Bytes) -> StatusCode {
    states.lock().expect("states").insert(name, body);
    StatusCode::OK
}
