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

/// The process's resident memory now and at its peak (Linux `/proc/self/status`), in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The hidden login-form token of a login page.
fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(page[at..].split('"').next()?.to_string())
}

#[test]
fn a_flood_of_login_pages_and_logins_is_bounded_and_a_live_session_survives_it() {
    use genesys_auth::{OsRng, Verifier};
    use genesys_emulator::DEMO_CLIENT_ID;
    let h = Harness::new(genesys_emulator::Config::default()); // the login page, as users see it
    let redirect = "http://localhost:3000/";
    // A live session, kept fresh through the flood: it must survive.
    let login = |user: &str| -> Option<(String, Option<String>)> {
        let v = Verifier::generate(&mut OsRng).ok()?;
        let q = Harness::authorize_query(DEMO_CLIENT_ID, redirect, v.challenge().as_str(), "st");
        let page = h.get(&format!("/oauth/authorize?{q}"));
        let csrf = csrf_of(&page.text())?;
        let decision =
            common::form(&[("csrf", &csrf), ("authorize_query", &q), ("user", user), ("decision", "approve")]);
        let back = h.post_form("/oauth/authorize", &decision);
        let code = back.location_param("code")?;
        let j = h.exchange(&code, v.secret()).json();
        Some((j["access_token"].as_str()?.to_string(), j["refresh_token"].as_str().map(str::to_string)))
    };
    let (mut live_access, mut live_refresh) = login("sam.supervisor@example.com").unwrap_or_else(|| panic!("login"));
    let (rss_before, _) = rss_kib();
    let mut logins = 0usize;
    let mut others: Vec<String> = Vec::new();
    for i in 0..100_000u32 {
        let status = match i % 10 {
            // Login pages nobody fills in (what a page looping <img src=…/oauth/authorize?…> makes).
            0..=3 => {
                let q = Harness::authorize_query(
                    DEMO_CLIENT_ID,
                    redirect,
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "s",
                );
                h.get(&format!("/oauth/authorize?{q}")).status
            }
            // Whole logins through the form: a login session (cookie), a code, tokens.
            4 if i % 50 == 4 => match login("alex.agent@example.com") {
                Some((access, _)) => {
                    logins += 1;
                    others.push(access);
                    200
                }
                None => 500,
            },
            4 | 5 => {
                let token = others.get(i as usize % others.len().max(1)).cloned().unwrap_or_default();
                h.api("GET", "/api/v2/users/me", &token).status
            }
            6 => h.refresh(&format!("not-a-refresh-token-{i}")).status,
            7 => h.post_form("/oauth/authorize", &format!("csrf=forged{i}&decision=approve")).status,
            8 if i % 2000 == 8 => {
                let fault = r#"{"route":"/api/v2/users/me","status":503,"times":2}"#;
                let req = http::Request::post("/__emulator/faults")
                    .header("content-type", "application/json")
                    .body(Bytes::from(fault))
                    .unwrap_or_default();
                h.send(req).status
            }
            _ => h.get(&format!("/oauth/authorize?client_id={i}")).status,
        };
        assert!((200..600).contains(&status), "request {i}: status {status}");
        // The live session refreshes now and then, as an app keeping it fresh does.
        if i % 5_000 == 4_999 {
            let r = h.refresh(live_refresh.as_deref().unwrap_or_default());
            assert_eq!(r.status, 200, "the live session's refresh at request {i}: {}", r.text());
            let j = r.json();
            live_access = j["access_token"].as_str().unwrap_or_default().to_string();
            live_refresh = j["refresh_token"].as_str().map(str::to_string);
        }
    }
    let (rss_after, peak) = rss_kib();
    let stats = h.emu.stats();
    println!(
        "soak: 100000 requests ({logins} logins), RSS {rss_before} → {rss_after} KiB (peak {peak} KiB); {stats:?}"
    );
    assert!(stats.login_forms <= genesys_emulator::MAX_CSRF, "{stats:?}");
    assert!(stats.sessions <= genesys_emulator::MAX_SESSIONS, "{stats:?}");
    assert!(stats.codes <= logins + 1 && stats.families <= logins + 1, "{stats:?}");
    assert!(stats.access_tokens <= logins + 1 + 20, "{stats:?}");
    assert!(stats.faults <= 50, "{stats:?}");
    // 40 000 login pages: without the cap ≈ 4 MB more here; with it, growth stays small.
    assert!(rss_after.saturating_sub(rss_before) < 64 * 1024, "RSS grew by {} KiB", rss_after - rss_before);
    // What should stay, stayed: the live session works, and its refresh token still refreshes.
    let me = h.api("GET", "/api/v2/users/me", &live_access);
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(h.refresh(live_refresh.as_deref().unwrap_or_default()).status, 200);
}
