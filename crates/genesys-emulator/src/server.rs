//! The network adapter: serves an [`Emulator`] over HTTP/1.1 on a TCP listener (loopback by default).
//!
//! It only moves bytes and reads the wall clock; every decision is the pure handler's. It applies the two
//! faults a response cannot express: a delay, and a dropped connection (the service fails, and hyper closes the
//! connection without writing a response).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::Emulator;

/// Largest request body read (token requests are < 2 KB).
const MAX_BODY: usize = 64 * 1024;

/// Wall-clock time in epoch milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A running server; dropping it (or calling [`Running::stop`]) stops accepting connections.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl Running {
    /// The base URL (`http://127.0.0.1:PORT`), serving both the login and the API paths.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections.
    pub fn stop(self) {}
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Binds `addr` and serves `emulator` on the current tokio runtime.
///
/// # Errors
/// When the address cannot be bound (in use, not permitted).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use std::sync::Arc;
/// use genesys_emulator::{Config, Emulator, server};
/// let running = server::start(Arc::new(Emulator::new(Config::default())), "127.0.0.1:0".parse().unwrap()).await?;
/// assert!(running.base_url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
pub async fn start(emulator: Arc<Emulator>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let emulator = emulator.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| serve_one(emulator.clone(), req));
                        // A dropped-connection fault ends here as an error, by design.
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                    });
                }
            }
        }
    });
    Ok(Running { addr, stop })
}

/// The error a dropped-connection fault turns into.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn serve_one(
    emulator: Arc<Emulator>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut r = http::Response::new(Full::new(Bytes::from_static(b"request body too large or unreadable")));
            *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(r);
        }
    };
    // Logged: method, path (never the query: it holds codes and states) and status.
    let (method, path) = (parts.method.clone(), parts.uri.path().to_string());
    let reply = emulator.handle(http::Request::from_parts(parts, body), now_ms());
    tracing::debug!(%method, %path, status = reply.response.status().as_u16(), dropped = reply.drop_connection, "request");
    if reply.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.delay_ms.min(120_000))).await;
    }
    if reply.drop_connection {
        return Err(Dropped);
    }
    Ok(reply.response.map(Full::new))
}
