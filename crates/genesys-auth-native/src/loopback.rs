//! The loopback redirect (RFC 8252 §7.3): a one-shot HTTP listener on 127.0.0.1 that takes the browser's
//! callback, lets the caller finish the login, and answers the browser with a short page.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use genesys_auth::Callback;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// A callback that reached the listener: its URL, and where to send the page the browser should see.
pub struct Arrival {
    /// `http://127.0.0.1:PORT/...?code=...&state=...`
    pub url: String,
    /// Send the outcome here: `Ok(())` for the success page, `Err(message)` for the failure page.
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// A bound loopback listener.
pub struct Loopback {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Loopback {
    /// Binds 127.0.0.1 on `port` (0 = any free port).
    ///
    /// # Errors
    /// The bind error, e.g. when a fixed port is in use.
    pub async fn bind(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        Ok(Loopback { listener, addr })
    }

    /// The redirect URI to register and send: `http://127.0.0.1:PORT/`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.addr.port())
    }

    /// Serves until `finish` returns `Some` for an arrival (its value is returned) or `timeout` passes (`None`).
    /// Requests that are not callbacks (favicon, probes) get a 404 and do not count. The listener is closed on
    /// return, whatever happens.
    pub async fn serve<T, F, Fut>(self, timeout: Duration, mut finish: F) -> Option<T>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = (Result<(), String>, Option<T>)>,
    {
        let (tx, mut rx) = mpsc::channel::<Arrival>(4);
        let base = format!("http://{}", self.addr);
        let accept = async move {
            loop {
                let Ok((stream, _)) = self.listener.accept().await else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let (tx, base) = (tx.clone(), base.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (tx, base) = (tx.clone(), base.clone());
                        async move { Ok::<_, std::convert::Infallible>(answer(req, &base, &tx).await) }
                    });
                    let _ =
                        http1::Builder::new().keep_alive(false).serve_connection(TokioIo::new(stream), service).await;
                });
            }
        };
        let work = async {
            while let Some(arrival) = rx.recv().await {
                let (page, done) = finish(arrival.url).await;
                let _ = arrival.reply.send(page);
                if done.is_some() {
                    // Let the page reach the browser before the listener goes away.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return done;
                }
            }
            None
        };
        tokio::select! {
            r = work => r,
            () = accept => None,
            () = tokio::time::sleep(timeout) => None,
        }
    }
}

async fn answer(
    req: http::Request<hyper::body::Incoming>,
    base: &str,
    tx: &mpsc::Sender<Arrival>,
) -> http::Response<Full<Bytes>> {
    let url = format!("{base}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    // Only the browser coming back to this address: a page on another name that resolves here (DNS rebinding)
    // sends another Host.
    let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok());
    if host != base.strip_prefix("http://") {
        return page(421, "Wrong address", "This listener only answers at its own loopback address.");
    }
    if req.method() != http::Method::GET || !Callback::is_callback(&url) {
        return page(404, "Not found", "This address only receives the Genesys Cloud sign-in callback.");
    }
    let (reply, outcome) = oneshot::channel();
    if tx.send(Arrival { url, reply }).await.is_err() {
        return page(410, "Sign-in already finished", "You can close this window.");
    }
    match outcome.await {
        Ok(Ok(())) => page(
            200,
            "Signed in",
            "You are signed in to Genesys Cloud. You can close this window and return to the terminal.",
        ),
        Ok(Err(message)) => page(400, "Sign-in failed", &message),
        Err(_) => page(500, "Sign-in interrupted", "The command stopped before finishing. Run it again."),
    }
}

fn page(status: u16, title: &str, message: &str) -> http::Response<Full<Bytes>> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><link rel=\"icon\" href=\"data:,\"></head>\
         <body style=\"font:16px system-ui,sans-serif;max-width:520px;margin:60px auto\"><h1>{t}</h1><p>{m}</p></body></html>",
        t = esc(title),
        m = esc(message)
    );
    http::Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}
