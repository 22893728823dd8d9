//! Black-box tests of the API host and the test controls through the pure handler.

mod common;

use common::{Harness, auto_config};
use genesys_emulator::Fault;

#[test]
fn users_me_expands_what_is_asked() {
    let h = Harness::new(auto_config());
    let (token, _) = h.login();
    let me = h
        .api(
            "GET",
            "/api/v2/users/me?expand=presence,routingStatus,organization,station,authorization,dateLastLogin",
            &token,
        )
        .json();
    assert_eq!(me["presence"]["presenceDefinition"]["systemPresence"], "Available");
    assert_eq!(me["routingStatus"]["status"], "IDLE");
    assert_eq!(me["organization"]["name"], "Emulated Contact Center");
    assert!(me["station"].is_object() && me["authorization"]["roles"].is_array());
    assert!(me["dateLastLogin"].as_str().is_some_and(|d| d.ends_with('Z')));
    for field in [
        "id",
        "name",
        "division",
        "chat",
        "email",
        "primaryContactInfo",
        "addresses",
        "state",
        "username",
        "version",
        "selfUri",
    ] {
        assert!(!me[field].is_null(), "{field}");
    }
    let plain = h.api("GET", "/api/v2/users/me", &token).json();
    assert!(plain["presence"].is_null());
}

#[test]
fn missing_bad_and_revoked_tokens_get_genesys_401s() {
    let h = Harness::new(auto_config());
    let a = h.get("/api/v2/users/me");
    assert_eq!((a.status, a.json()["code"].as_str()), (401, Some("authentication.required")));
    assert_eq!(h.api("GET", "/api/v2/users/me", "forged").json()["code"], "bad.credentials");
    let (token, _) = h.login();
    assert_eq!(h.api("HEAD", "/api/v2/tokens/me", &token).status, 200);
    assert!(h.api("HEAD", "/api/v2/tokens/me", &token).body.is_empty());
    assert!(h.api("GET", "/api/v2/tokens/me", &token).json()["OAuthClient"]["id"].is_string());
    assert_eq!(h.api("DELETE", "/api/v2/tokens/me", &token).status, 204);
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 401);
    assert_eq!(h.api("HEAD", "/api/v2/tokens/me", &token).status, 401);
}

#[test]
fn expired_token_says_credentials_expired() {
    let mut h = Harness::new(auto_config());
    let (token, _) = h.login();
    h.now += 86_400_000;
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).json()["code"], "credentials.expired");
}

#[test]
fn idle_timeout_revokes_an_unused_token_early() {
    let mut config = auto_config();
    config.idle_timeout_s = 300;
    let mut h = Harness::new(config);
    let (token, _) = h.login();
    h.now += 200_000;
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 200);
    h.now += 200_000; // used 200 s ago: still fine
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 200);
    h.now += 301_000;
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 401);
    h.now += 1;
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 401, "stays revoked");
}

#[test]
fn rate_limit_answers_429_with_retry_after_and_genesys_headers() {
    let mut config = auto_config();
    config.rate_limit_per_minute = 5;
    let mut h = Harness::new(config);
    let (token, _) = h.login();
    for i in 1..=5 {
        let a = h.api("GET", "/api/v2/users/me", &token);
        assert_eq!(a.status, 200);
        assert_eq!(a.header("inin-ratelimit-count"), Some(i.to_string()));
        assert_eq!(a.header("inin-ratelimit-allowed").as_deref(), Some("5"));
    }
    h.now += 10_000;
    let a = h.api("GET", "/api/v2/users/me", &token);
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["code"], "too.many.requests");
    assert_eq!(a.header("retry-after").as_deref(), Some("50"));
    assert!(a.header("inin-correlation-id").is_some());
    h.now += 50_000;
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 200);
}

#[test]
fn cors_preflight_is_allowed_only_for_registered_origins() {
    let h = Harness::new(auto_config());
    for (origin, path, ok) in [
        ("http://localhost:3000", "/oauth/token", true),
        ("http://localhost:3000", "/api/v2/users/me", true),
        ("https://evil.example", "/oauth/token", false),
        ("http://localhost:3000", "/oauth/authorize", false),
    ] {
        let req = http::Request::builder()
            .method("OPTIONS")
            .uri(path)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(bytes::Bytes::new());
        let a = h.send(req.unwrap_or_default());
        assert_eq!(a.status == 204, ok, "{origin} {path}");
        assert_eq!(a.header("access-control-allow-origin").as_deref() == Some(origin), ok, "{origin} {path}");
    }
}

#[test]
fn faults_apply_once_n_times_or_always_and_are_logged_without_secrets() {
    let h = Harness::new(auto_config());
    let (token, _) = h.login();
    h.emu.add_fault(Fault { route: "/api/v2/users/me".into(), status: Some(503), times: 2, ..Fault::default() });
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 503);
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 503);
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 200);

    h.emu.add_fault(Fault {
        route: "/oauth/token".into(),
        status: Some(429),
        retry_after: Some("7".into()),
        times: 0,
        ..Fault::default()
    });
    for _ in 0..3 {
        let a = h.post_form("/oauth/token", "grant_type=refresh_token");
        assert_eq!((a.status, a.header("retry-after").as_deref()), (429, Some("7")));
    }
    h.emu.clear_faults();
    let reply = {
        h.emu.add_fault(Fault { route: "/api/v2/users/me".into(), drop_connection: true, ..Fault::default() });
        h.emu.handle(http::Request::get("/api/v2/users/me").body(bytes::Bytes::new()).unwrap_or_default(), common::T0)
    };
    assert!(reply.drop_connection);
    h.emu.add_fault(Fault { route: "/oauth/token".into(), malformed_json: true, ..Fault::default() });
    let a = h.post_form("/oauth/token", "grant_type=refresh_token");
    assert_eq!(a.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&a.body).is_err());

    let log = serde_json::to_string(&h.emu.request_log()).unwrap_or_default();
    assert!(!log.contains(&token), "the log must not hold tokens");
    assert!(log.contains("\"fault\":true"));
}

#[test]
fn admin_api_controls_faults_clock_config_and_reset() {
    let h = Harness::new(auto_config());
    let post = |path: &str, method: &str, body: &str| {
        h.send(
            http::Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(bytes::Bytes::from(body.to_string()))
                .unwrap_or_default(),
        )
    };
    assert_eq!(
        post(
            "/__emulator/faults",
            "POST",
            r#"{"route":"/oauth/token","status":502,"body":"<html>502</html>","content_type":"text/html"}"#
        )
        .status,
        201
    );
    let a = h.post_form("/oauth/token", "grant_type=authorization_code");
    assert_eq!((a.status, a.text().as_str()), (502, "<html>502</html>"));
    assert_eq!(post("/__emulator/faults", "POST", r#"{"nonsense":1}"#).status, 400);

    let (token, _) = h.login();
    assert_eq!(post("/__emulator/clock", "POST", r#"{"advance_ms":86400000}"#).status, 200);
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 401);

    assert_eq!(post("/__emulator/config", "PATCH", r#"{"refresh":{"policy":"none"}}"#).status, 204);
    assert_eq!(h.refresh("x").oauth_error().as_deref(), Some("unauthorized_client"));
    assert_eq!(post("/__emulator/config", "PATCH", r#"{"token_duration_s":5}"#).status, 400);

    let log = h.get("/__emulator/requests").json();
    assert!(log.as_array().is_some_and(|l| l.iter().any(|e| e["grant_type"] == "refresh_token")));
    assert_eq!(post("/__emulator/reset", "POST", "").status, 204);
    assert_eq!(h.get("/__emulator/requests").json().as_array().map(Vec::len), Some(0));
    assert_eq!(h.refresh("x").oauth_error().as_deref(), Some("invalid_grant"), "reset restores the refresh policy");
}

/// An admin request with the given headers.
fn admin(h: &Harness, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut b = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    h.send(b.body(bytes::Bytes::from(body.to_string())).unwrap_or_default()).status
}

#[test]
fn no_web_page_can_drive_the_admin_api() {
    let h = Harness::new(auto_config());
    let fault = r#"{"route":"/","status":200,"body":"<script>evil()</script>","content_type":"text/html"}"#;
    let json = ("content-type", "application/json");
    let host = ("host", "127.0.0.1:8080");
    // A cross-site form or fetch without preflight sends text/plain.
    assert_eq!(admin(&h, "POST", "/__emulator/faults", &[host, ("content-type", "text/plain")], fault), 415);
    // Another origin's page, even with JSON (its preflight gets no CORS answer, but simple requests still arrive).
    assert_eq!(admin(&h, "POST", "/__emulator/faults", &[host, json, ("origin", "http://evil.example")], fault), 403);
    // DNS rebinding: the page's own name in Host.
    assert_eq!(admin(&h, "POST", "/__emulator/faults", &[("host", "evil.example:8080"), json], fault), 403);
    assert_eq!(admin(&h, "GET", "/__emulator/requests", &[("host", "127.0.0.1.evil.example")], ""), 403);
    assert!(!h.get("/").text().contains("evil()"), "no fault was installed");
    // The emulator's own origin and tools (no Origin) may.
    assert_eq!(admin(&h, "POST", "/__emulator/faults", &[host, json, ("origin", "http://127.0.0.1:8080")], fault), 201);
    assert_eq!(admin(&h, "DELETE", "/__emulator/faults", &[("host", "[::1]:8080")], ""), 204);
    assert_eq!(admin(&h, "GET", "/__emulator/requests", &[("host", "localhost")], ""), 200);
}

#[test]
fn an_admin_token_is_required_once_configured() {
    let mut config = auto_config();
    config.admin_token = Some("s3cret-admin".into());
    let h = Harness::new(config);
    assert_eq!(admin(&h, "GET", "/__emulator/requests", &[("host", "127.0.0.1:8080")], ""), 403);
    assert_eq!(admin(&h, "GET", "/__emulator/requests", &[("authorization", "Bearer wrong")], ""), 403);
    let with = [("host", "192.168.1.20:8080"), ("authorization", "Bearer s3cret-admin")];
    assert_eq!(admin(&h, "GET", "/__emulator/requests", &with, ""), 200);
}

#[test]
fn the_admin_clock_is_bounded_and_time_arithmetic_saturates() {
    let h = Harness::new(auto_config());
    let json = [("content-type", "application/json")];
    let max = format!(r#"{{"advance_ms":{}}}"#, u64::MAX);
    assert_eq!(admin(&h, "POST", "/__emulator/clock", &json, &max), 400);
    for _ in 0..3 {
        assert_eq!(admin(&h, "POST", "/__emulator/clock", &json, r#"{"advance_ms":315360000000}"#), 200);
    }
    // Codes, tokens and sweeps far in the future: answers, no overflow panic (this is a debug build).
    let (token, _) = h.login();
    assert_eq!(h.api("GET", "/api/v2/users/me", &token).status, 200);
}

#[test]
fn bounds_of_the_configuration_are_checked() {
    for patch in [
        r#"{"code_lifetime_s":0}"#,
        r#"{"idle_timeout_s":5}"#,
        r#"{"refresh":{"max_lifetime_s":18446744073709551615}}"#,
    ] {
        let h = Harness::new(auto_config());
        assert_eq!(
            admin(&h, "PATCH", "/__emulator/config", &[("content-type", "application/json")], patch),
            400,
            "{patch}"
        );
    }
}

#[test]
fn cors_answers_follow_the_client_the_request_is_for() {
    let mut config = auto_config();
    config.clients.push(genesys_emulator::config::ClientConfig {
        id: "other-client".into(),
        name: String::new(),
        kind: "public".into(),
        secret: None,
        redirect_uris: vec!["https://other.example/".into()],
        allowed_origins: vec!["https://other.example".into()],
        token_duration_s: None,
    });
    let h = Harness::new(config);
    let (token, _) = h.login(); // issued to the demo client (origin http://localhost:3000)
    let with_origin = |origin: &str| {
        let req = http::Request::builder()
            .uri("/api/v2/users/me")
            .header("authorization", format!("Bearer {token}"))
            .header("origin", origin)
            .body(bytes::Bytes::new());
        h.send(req.unwrap_or_default()).header("access-control-allow-origin")
    };
    assert_eq!(with_origin("http://localhost:3000").as_deref(), Some("http://localhost:3000"));
    assert_eq!(with_origin("https://other.example"), None, "another client's origin cannot read this client's answers");
    let token_post = |client: &str, origin: &str| {
        let req = http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body(bytes::Bytes::from(format!("grant_type=refresh_token&refresh_token=x&client_id={client}")));
        h.send(req.unwrap_or_default()).header("access-control-allow-origin")
    };
    assert_eq!(token_post("other-client", "https://other.example").as_deref(), Some("https://other.example"));
    assert_eq!(token_post("other-client", "http://localhost:3000"), None);
}

#[test]
fn rate_limit_headers_are_exposed_to_pages_unless_turned_off() {
    for expose in [true, false] {
        let mut config = auto_config();
        config.expose_rate_limit_headers = expose;
        let h = Harness::new(config);
        let (token, _) = h.login();
        let req = http::Request::builder()
            .uri("/api/v2/users/me")
            .header("authorization", format!("Bearer {token}"))
            .header("origin", "http://localhost:3000")
            .body(bytes::Bytes::new());
        let exposed = h.send(req.unwrap_or_default()).header("access-control-expose-headers").unwrap_or_default();
        assert_eq!(exposed.contains("retry-after") && exposed.contains("inin-ratelimit-reset"), expose, "{exposed}");
    }
}
