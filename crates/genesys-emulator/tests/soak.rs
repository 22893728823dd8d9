//! A soak: 10^5 mixed requests (logins, refreshes, API calls, garbage, faults, clock jumps) against one emulator,
//! in-process. No panic, every request answered, and memory bounded: what expires is swept.

mod common;

use bytes::Bytes;
use common::{Harness, auto_config};
use http::Request;

#[test]
fn a_hundred_thousand_mixed_requests_keep_memory_bounded() {
    let h = Harness::new(auto_config());
    let json = |method: &str, path: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_string()))
            .unwrap_or_default()
    };
    let mut tokens: Vec<(String, Option<String>)> = Vec::new();
    let mut answered = 0usize;
    for i in 0..100_000u32 {
        let status = match i % 10 {
            0 => {
                let (code, verifier) = h.code();
                let t = h.exchange(&code, &verifier);
                let j = t.json();
                if let Some(a) = j["access_token"].as_str() {
                    tokens.push((a.to_string(), j["refresh_token"].as_str().map(str::to_string)));
                    if tokens.len() > 50 {
                        tokens.remove(0);
                    }
                }
                t.status
            }
            1 => {
                let refresh = tokens.last().and_then(|t| t.1.clone()).unwrap_or_default();
                h.refresh(&refresh).status
            }
            2..=5 => {
                let token = tokens.get(i as usize % tokens.len().max(1)).map(|t| t.0.clone()).unwrap_or_default();
                h.api("GET", "/api/v2/users/me?expand=presence", &token).status
            }
            6 => {
                h.post_form("/oauth/token", &format!("grant_type=authorization_code&code=c{i}&code_verifier=x")).status
            }
            7 => h.get(&format!("/oauth/authorize?client_id={i}&x=%ff%00")).status,
            8 if i % 1000 == 8 => {
                h.send(json("POST", "/__emulator/faults", r#"{"route":"/api/v2/users/me","status":503,"times":3}"#))
                    .status
            }
            8 if i % 5000 == 18 => h.send(json("POST", "/__emulator/clock", r#"{"advance_ms":172800000}"#)).status,
            _ => h.get("/api/v2/unknown").status,
        };
        assert!((200..600).contains(&status), "request {i}: status {status}");
        answered += 1;
    }
    assert_eq!(answered, 100_000);
    let stats = h.emu.stats();
    // 10^4 logins with 20 jumps of two days: expired codes, tokens and windows were swept.
    assert!(stats.codes < 2_000, "{stats:?}");
    assert!(stats.access_tokens < 10_000, "{stats:?}");
    assert!(stats.faults <= 1_000, "{stats:?}");
    assert!(h.emu.request_log().len() <= 10_000);
}
