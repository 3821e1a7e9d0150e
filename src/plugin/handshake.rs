//! `TCP_NODELAY` on the plugin connection, without patching tf-provider.
//!
//! tf-provider binds its own listener and hands tonic a stream of accepted sockets, so tonic's
//! `tcp_nodelay` is never applied: Nagle's algorithm then holds each small gRPC write until the
//! peer's delayed ACK, about 40 ms per exchange, several times per Terraform command.
//!
//! Linux copies `TCP_NODELAY` from a listening socket to every socket it accepts, so it is
//! enough to set it on tf-provider's listener before Terraform connects. Terraform connects
//! only after reading the handshake line (`1|6|tcp|127.0.0.1:PORT|grpc|CERT`) on stdout. So
//! stdout is routed through a pipe: a thread reads the handshake, sets `TCP_NODELAY` on the
//! listening socket bound to that port, and only then forwards the line to the real stdout.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

/// Routes stdout through the handshake watcher, unless `ECS_PROVIDER_NODELAY=0` (which keeps
/// Nagle's algorithm, only to measure what it costs). Call before anything prints to stdout.
pub(crate) fn install() {
    if std::env::var("ECS_PROVIDER_NODELAY").as_deref() == Ok("0") {
        return;
    }
    if let Err(e) = route_stdout() {
        tracing::warn!(error = %e, "cannot watch the handshake; the plugin connection keeps Nagle's algorithm");
    }
}

fn route_stdout() -> std::io::Result<()> {
    let real_stdout = File::from(rustix::io::dup(rustix::stdio::stdout())?);
    let (reader, writer) = rustix::pipe::pipe()?;
    rustix::stdio::dup2_stdout(&writer)?;
    drop(writer);
    std::thread::Builder::new()
        .name("handshake".into())
        .spawn(move || forward(BufReader::new(File::from(reader)), real_stdout))?;
    Ok(())
}

fn forward(mut from: impl BufRead, mut to: File) {
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        match from.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if first {
            first = false;
            if let Some(port) = handshake_port(&line) {
                let n = set_nodelay_on_listeners(port);
                tracing::debug!(port, sockets = n, "TCP_NODELAY set on the plugin listener");
            }
        }
        if to
            .write_all(line.as_bytes())
            .and_then(|_| to.flush())
            .is_err()
        {
            return;
        }
    }
}

/// The port of a go-plugin handshake line `CORE|APP|tcp|HOST:PORT|grpc|…`.
fn handshake_port(line: &str) -> Option<u16> {
    let mut parts = line.trim_end().split('|');
    let (_, _, network, address) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if network != "tcp" {
        return None;
    }
    address.parse::<SocketAddr>().ok().map(|a| a.port())
}

/// Sets `TCP_NODELAY` on every TCP socket of this process bound to `port`; at handshake time
/// that is tf-provider's listener alone. Returns how many were set.
fn set_nodelay_on_listeners(port: u16) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut set = 0;
    for entry in entries.flatten() {
        let Ok(raw) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: the descriptor was open in this process a moment ago and is only used for
        // getsockname/setsockopt, which fail harmlessly (EBADF, ENOTSOCK) if it has been
        // closed meanwhile; it is never closed or kept.
        let fd = unsafe { BorrowedFd::borrow_raw(raw) };
        let bound = rustix::net::getsockname(fd)
            .ok()
            .and_then(|a| SocketAddr::try_from(a).ok());
        if bound.is_some_and(|a| a.port() == port)
            && rustix::net::sockopt::set_tcp_nodelay(fd, true).is_ok()
        {
            set += 1;
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn parses_the_go_plugin_handshake() {
        assert_eq!(
            handshake_port("1|6|tcp|127.0.0.1:10001|grpc|MIIB\n"),
            Some(10001)
        );
        assert_eq!(handshake_port("1|6|tcp|127.0.0.1:1025|grpc|"), Some(1025));
        assert_eq!(handshake_port("1|6|unix|/tmp/x|grpc|"), None);
        assert_eq!(handshake_port("hello"), None);
    }

    #[test]
    fn accepted_sockets_inherit_nodelay_from_the_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert_eq!(set_nodelay_on_listeners(port), 1);
        let _client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        assert!(
            accepted.nodelay().expect("nodelay"),
            "inherited TCP_NODELAY"
        );
    }
}
