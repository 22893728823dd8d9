//! Bounded loopback load test: mixed requests with faults switched on, over real sockets. No panic, no answer
//! outside the expected ones, and state stays bounded thanks to expiry sweeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use genesys_auth::{OsRng, Verifier};
use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator, Fault, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_with_faults_stays_correct_and_bounded() {
    let total: u64 = std::env::var("GENESYS_LOAD_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let config = Config { auto_login: Some("alex".into()), token_duration_s: 300, ..Config::default() };
    let rss_before = rss_kib();
    let emu = Arc::new(Emulator::new(config));
    emu.add_fault(Fault { route: "/api/v2/organizations/me".into(), status: Some(503), times: 0, ..Fault::default() });
    let running = server::start(emu.clone(), "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let base = running.base_url();
    let sent = Arc::new(AtomicU64::new(0));
    let unexpected = Arc::new(AtomicU64::new(0));
    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (http, base, sent, unexpected, emu) =
            (http.clone(), base.clone(), sent.clone(), unexpected.clone(), emu.clone());
        workers.push(tokio::spawn(async move {
            let check = |ok: bool| {
                if !ok {
                    unexpected.fetch_add(1, Ordering::Relaxed);
                }
            };
            while sent.fetch_add(6, Ordering::Relaxed) < total {
                let v = Verifier::generate(&mut OsRng).unwrap_or_else(|e| panic!("{e}"));
                let url = format!(
                    "{base}/oauth/authorize?response_type=code&client_id={DEMO_CLIENT_ID}&redirect_uri=http://localhost:3000/&code_challenge={}&code_challenge_method=S256&state=s",
                    v.challenge().as_str()
                );
                let Ok(a) = http.get(&url).send().await else { check(false); continue };
                let loc = a.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
                let code = loc.split("code=").nth(1).and_then(|c| c.split('&').next()).unwrap_or("").to_string();
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("code_verifier", v.secret()),
                    ("client_id", DEMO_CLIENT_ID),
                    ("redirect_uri", "http://localhost:3000/"),
                ];
                let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                let post = |body: String| {
                    http.post(format!("{base}/oauth/token")).header("content-type", "application/x-www-form-urlencoded").body(body).send()
                };
                let Ok(t) = post(body.clone()).await else { check(false); continue };
                check(t.status() == 200);
                let json: serde_json::Value = serde_json::from_slice(&t.bytes().await.unwrap_or_default()).unwrap_or_default();
                let access = json["access_token"].as_str().unwrap_or("").to_string();
                let refresh = json["refresh_token"].as_str().unwrap_or("").to_string();
                let me = http.get(format!("{base}/api/v2/users/me")).bearer_auth(&access).send().await;
                check(me.map(|r| r.status().as_u16()).unwrap_or(0) == 200);
                let org = http.get(format!("{base}/api/v2/organizations/me")).bearer_auth(&access).send().await;
                check(org.map(|r| r.status().as_u16()).unwrap_or(0) == 503);
                let refresh_body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", DEMO_CLIENT_ID)])
                    .finish();
                check(post(refresh_body).await.map(|r| r.status().as_u16()).unwrap_or(0) == 200);
                // Replaying the code fails (and revokes the family it issued).
                let replay = post(body).await.map(|r| r.status().as_u16()).unwrap_or(0);
                check(replay == 400);
                // Let time pass so expiry sweeping has work to do.
                emu.advance_clock(500);
            }
        }));
    }
    for w in workers {
        w.await.unwrap_or_else(|e| panic!("worker panicked: {e}"));
    }
    let stats = emu.stats();
    let rss_after = rss_kib();
    running.stop();
    assert_eq!(unexpected.load(Ordering::Relaxed), 0, "unexpected answers");
    // 300 s tokens kept 600 s past expiry, codes kept 120 s, a clock moving 500 ms per grant: ≈ 1800 grants live.
    assert!(
        rss_after.saturating_sub(rss_before) < 256 * 1024,
        "resident memory grew from {rss_before} to {rss_after} KiB"
    );
    assert!(stats.access_tokens < 12_000 && stats.codes < 12_000, "state not bounded: {stats:?}");
}

/// Resident set size of this process in KiB (Linux), 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
