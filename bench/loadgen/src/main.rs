//! `loadgen`: whole PKCE grants or chained refresh-token grants against an OAuth server on loopback, with one
//! keep-alive connection per worker, for a bounded time. Prints one JSON line: count, per-second rate, p50/p99.
//!
//! ```text
//! loadgen grants  <base> <authorize-path> <token-path> <client-id> <redirect-uri> <concurrency> <seconds> [scope]
//! loadgen refresh <base> <authorize-path> <token-path> <client-id> <redirect-uri> <concurrency> <seconds> [scope]
//! ```
//! The same generator drives every server of a comparison, so their figures are comparable. Without `scope` none
//! is asked for (what Genesys Cloud apps send by default; no OpenID Connect ID token).

use std::time::{Duration, Instant};

use bytes::Bytes;
use genesys_auth::{OsRng, Verifier};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

struct Target {
    host: String,
    authorize: String,
    token: String,
    client_id: String,
    redirect: String,
    /// The `scope` parameter, if any.
    scope: Option<String>,
}

type Conn = SendRequest<Full<Bytes>>;

async fn connect(host: &str) -> Option<Conn> {
    let stream = TcpStream::connect(host).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(conn);
    Some(send)
}

async fn call(conn: &mut Conn, req: http::Request<Full<Bytes>>) -> Option<(u16, Option<String>, Bytes)> {
    conn.ready().await.ok()?;
    let res = conn.send_request(req).await.ok()?;
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = res.into_body().collect().await.ok()?.to_bytes();
    Some((status, location, body))
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn post(t: &Target, body: String) -> http::Request<Full<Bytes>> {
    http::Request::post(&t.token)
        .header("host", &t.host)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// One whole PKCE grant: authorize (an immediate redirect; for servers with an auto-approving interaction, the
/// redirects are followed on the same host with their cookies) then token. Returns the refresh token if any.
async fn grant(conn: &mut Conn, t: &Target) -> Option<Option<String>> {
    let verifier = Verifier::generate(&mut OsRng).ok()?;
    let challenge = verifier.challenge();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", t.client_id.as_str()),
        ("redirect_uri", t.redirect.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "bench-state-value"),
    ];
    if let Some(scope) = &t.scope {
        params.extend([("scope", scope.as_str()), ("prompt", "consent")]);
    }
    let q = form(&params);
    let mut target = format!("{}?{q}", t.authorize);
    let mut cookies: Vec<String> = Vec::new();
    let mut code = None;
    for _ in 0..8 {
        let mut req = http::Request::get(&target).header("host", &t.host);
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        conn.ready().await.ok()?;
        let res = conn.send_request(req.body(Full::new(Bytes::new())).ok()?).await.ok()?;
        for c in res.headers().get_all("set-cookie") {
            if let Some(pair) = c.to_str().ok().and_then(|v| v.split(';').next()) {
                let name = pair.split('=').next().unwrap_or("").to_string();
                cookies.retain(|old| old.split('=').next() != Some(name.as_str()));
                cookies.push(pair.to_string());
            }
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let _ = res.into_body().collect().await.ok()?;
        let location = location.filter(|_| (300..400).contains(&status))?;
        if location.starts_with(&t.redirect) {
            let query = location.split_once('?').map_or("", |(_, q)| q);
            code = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
            break;
        }
        // Same-host redirect: keep only the path and query.
        target = match location.find("://") {
            Some(i) => location[i + 3..].find('/').map_or("/".to_string(), |j| location[i + 3 + j..].to_string()),
            None => location,
        };
    }
    let code = code?;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", verifier.secret()),
        ("client_id", &t.client_id),
        ("redirect_uri", &t.redirect),
    ]);
    let (status, _, body) = call(conn, post(t, body)).await?;
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(json["refresh_token"].as_str().map(str::to_string))
}

async fn refresh(conn: &mut Conn, t: &Target, token: &str) -> Option<String> {
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", &t.client_id)]);
    let (status, _, body) = call(conn, post(t, body)).await?;
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&body).ok()?;
    json["refresh_token"].as_str().map(str::to_string)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 9 && args.len() != 10 {
        eprintln!(
            "usage: loadgen <grants|refresh> <base> <authorize-path> <token-path> <client-id> <redirect-uri> <concurrency> <seconds> [scope]"
        );
        std::process::exit(2);
    }
    let host = args[2].trim_start_matches("http://").trim_end_matches('/').to_string();
    if !(host.starts_with("127.0.0.1:") || host.starts_with("[::1]:") || host.starts_with("localhost:")) {
        eprintln!("loadgen sends traffic to loopback only");
        std::process::exit(2);
    }
    let target = std::sync::Arc::new(Target {
        host: host.clone(),
        authorize: args[3].clone(),
        token: args[4].clone(),
        client_id: args[5].clone(),
        redirect: args[6].clone(),
        scope: args.get(9).cloned(),
    });
    let refresh_mode = args[1] == "refresh";
    let concurrency: usize = args[7].parse().unwrap_or(16);
    let seconds: f64 = args[8].parse().unwrap_or(3.0);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let t = target.clone();
        workers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            let Some(mut conn) = connect(&t.host).await else { return (latencies, 1) };
            // Refresh mode: each worker chains its own rotating refresh tokens from one login.
            let mut chain = if refresh_mode { grant(&mut conn, &t).await.flatten() } else { None };
            while Instant::now() < deadline {
                let start = Instant::now();
                let ok = if refresh_mode {
                    match &chain {
                        Some(token) => {
                            let next = refresh(&mut conn, &t, token).await;
                            let ok = next.is_some();
                            chain = next.or_else(|| chain.take());
                            ok
                        }
                        None => false,
                    }
                } else {
                    grant(&mut conn, &t).await.is_some()
                };
                if ok {
                    latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                    if let Some(c) = connect(&t.host).await {
                        conn = c;
                    }
                    if refresh_mode && chain.is_none() {
                        chain = grant(&mut conn, &t).await.flatten();
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for w in workers {
        if let Ok((l, e)) = w.await {
            all.extend(l);
            errors += e;
        }
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all.get(((all.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({"count": all.len(), "per_s": all.len() as f64 / seconds, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "errors": errors})
    );
}
