//! Black-box tests of the login host through the pure handler: each rule, each rejection.

mod common;

use common::{Harness, REDIRECT, auto_config, form};
use genesys_emulator::{Config, DEMO_CLIENT_ID, RefreshPolicy, config::ClientConfig};

#[test]
fn full_pkce_grant_issues_bearer_tokens_that_work_on_the_api() {
    let h = Harness::new(auto_config());
    let (code, verifier) = h.code();
    let t = h.exchange(&code, &verifier);
    assert_eq!(t.status, 200);
    assert_eq!(t.header("cache-control").as_deref(), Some("no-store"));
    let j = t.json();
    assert_eq!(j["token_type"], "bearer");
    assert_eq!(j["expires_in"], 86400);
    let me = h.api("GET", "/api/v2/users/me", j["access_token"].as_str().unwrap_or(""));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], "alex.agent@example.com");
}

#[test]
fn wrong_verifier_is_rejected() {
    let h = Harness::new(auto_config());
    let (code, _) = h.code();
    let t = h.exchange(&code, &"x".repeat(64));
    assert_eq!((t.status, t.oauth_error().as_deref()), (400, Some("invalid_grant")));
}

#[test]
fn missing_verifier_is_rejected() {
    let h = Harness::new(auto_config());
    let (code, _) = h.code();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", REDIRECT),
    ]);
    let t = h.post_form("/oauth/token", &body);
    assert_eq!((t.status, t.oauth_error().as_deref()), (400, Some("invalid_request")));
}

#[test]
fn replayed_code_is_rejected_and_revokes_what_it_issued() {
    let h = Harness::new(auto_config());
    let (code, verifier) = h.code();
    let first = h.exchange(&code, &verifier);
    let access = first.json()["access_token"].as_str().unwrap_or_default().to_string();
    let again = h.exchange(&code, &verifier);
    assert_eq!((again.status, again.oauth_error().as_deref()), (400, Some("invalid_grant")));
    assert_eq!(h.api("GET", "/api/v2/users/me", &access).status, 401);
}

#[test]
fn expired_code_is_rejected() {
    let mut h = Harness::new(auto_config());
    let (code, verifier) = h.code();
    h.now += 61_000;
    let t = h.exchange(&code, &verifier);
    assert_eq!(t.oauth_error().as_deref(), Some("invalid_grant"));
}

#[test]
fn code_is_bound_to_client_and_redirect_uri() {
    let mut config = auto_config();
    config.clients.push(ClientConfig {
        id: "other-client".into(),
        name: String::new(),
        kind: "public".into(),
        secret: None,
        redirect_uris: vec![REDIRECT.into(), "http://localhost:3000/other".into()],
        allowed_origins: vec![],
        token_duration_s: None,
    });
    let h = Harness::new(config);
    let (code, verifier) = h.code();
    let other_client = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", &verifier),
        ("client_id", "other-client"),
        ("redirect_uri", REDIRECT),
    ]);
    assert_eq!(h.post_form("/oauth/token", &other_client).oauth_error().as_deref(), Some("invalid_grant"));

    let (code, verifier) = h.code_for("other-client", "http://localhost:3000/other");
    let other_redirect = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", &verifier),
        ("client_id", "other-client"),
        ("redirect_uri", REDIRECT),
    ]);
    assert_eq!(h.post_form("/oauth/token", &other_redirect).oauth_error().as_deref(), Some("invalid_grant"));
}

#[test]
fn unregistered_redirect_or_unknown_client_gets_an_html_page_never_a_redirect() {
    let h = Harness::new(auto_config());
    let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    for q in [
        Harness::authorize_query(DEMO_CLIENT_ID, "https://evil.example/", c, "s"),
        Harness::authorize_query(DEMO_CLIENT_ID, "http://localhost:3000", c, "s"),
        Harness::authorize_query("no-such-client", REDIRECT, c, "s"),
    ] {
        let a = h.get(&format!("/oauth/authorize?{q}"));
        assert_eq!(a.status, 400, "{q}");
        assert_eq!(a.header("location"), None);
        assert!(a.header("content-type").unwrap_or_default().starts_with("text/html"));
    }
}

#[test]
fn missing_or_plain_pkce_is_sent_back_as_an_error() {
    let h = Harness::new(auto_config());
    let no_challenge =
        form(&[("response_type", "code"), ("client_id", DEMO_CLIENT_ID), ("redirect_uri", REDIRECT), ("state", "s1")]);
    let a = h.get(&format!("/oauth/authorize?{no_challenge}"));
    assert_eq!(a.location_param("error").as_deref(), Some("invalid_request"));
    assert_eq!(a.location_param("state").as_deref(), Some("s1"));
    let plain = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, &"a".repeat(43), "s").replace("S256", "plain");
    let a = h.get(&format!("/oauth/authorize?{plain}"));
    assert_eq!(a.location_param("error").as_deref(), Some("invalid_pkce_package"));
    assert_eq!(a.location_param("code"), None);
}

#[test]
fn login_page_approve_and_deny() {
    let h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let page = h.get(&format!("/oauth/authorize?{q}"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Sam Supervisor") && page.text().contains("Approve"));

    let csrf = csrf_of(&page.text());
    let deny = h.post_form(
        "/oauth/authorize",
        &form(&[("authorize_query", &q), ("csrf", &csrf), ("decision", "deny"), ("user", "sam")]),
    );
    assert_eq!(deny.location_param("error").as_deref(), Some("access_denied"));
    assert_eq!(deny.location_param("state").as_deref(), Some("s9"));

    let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
    let approve = h.post_form(
        "/oauth/authorize",
        &form(&[("authorize_query", &q), ("csrf", &csrf), ("decision", "approve"), ("user", "sam")]),
    );
    assert!(approve.location_param("code").is_some());
    let cookie = approve.header("set-cookie").unwrap_or_default();
    let session = cookie.split(';').next().unwrap_or("").to_string();

    // The login session makes the next authorize silent, as a Genesys login session does...
    let req = http::Request::get(format!("/oauth/authorize?{q}")).header("cookie", &session).body(bytes::Bytes::new());
    let silent = h.send(req.unwrap_or_default());
    assert!(silent.location_param("code").is_some());
    // ...unless prompt=login, and not after /logout.
    let req = http::Request::get(format!("/oauth/authorize?{q}&prompt=login"))
        .header("cookie", &session)
        .body(bytes::Bytes::new());
    assert_eq!(h.send(req.unwrap_or_default()).status, 200);
    let req = http::Request::get(format!("/logout?client_id={DEMO_CLIENT_ID}&redirect_uri={REDIRECT}"))
        .header("cookie", &session);
    let out = h.send(req.body(bytes::Bytes::new()).unwrap_or_default());
    assert_eq!(out.header("location").as_deref(), Some(REDIRECT));
    let req = http::Request::get(format!("/oauth/authorize?{q}")).header("cookie", &session).body(bytes::Bytes::new());
    assert_eq!(h.send(req.unwrap_or_default()).status, 200);
}

#[test]
fn an_sso_login_names_the_org_and_its_identity_provider_on_the_login_page() {
    let h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let sso = h.get(&format!("/oauth/authorize?{q}&org=acme%3Ccorp&provider=okta")).text();
    assert!(sso.contains(r#"<b id="sso-org">acme&lt;corp</b>"#), "{sso}");
    assert!(sso.contains(r#"<b id="sso-provider">okta</b>"#), "{sso}");
    assert!(sso.contains("Approve"));
    let plain = h.get(&format!("/oauth/authorize?{q}&login_hint=sam")).text();
    assert!(!plain.contains("sso-org") && plain.contains("Approve"));
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_family() {
    let h = Harness::new(auto_config());
    let (access1, refresh1) = h.login();
    let refresh1 = refresh1.unwrap_or_default();
    let r = h.refresh(&refresh1);
    assert_eq!(r.status, 200);
    let refresh2 = r.json()["refresh_token"].as_str().unwrap_or_default().to_string();
    let access2 = r.json()["access_token"].as_str().unwrap_or_default().to_string();
    assert_ne!(refresh1, refresh2);
    assert_eq!(h.api("GET", "/api/v2/users/me", &access2).status, 200);
    // Reuse of the retired token: invalid_grant, and the whole family dies.
    assert_eq!(h.refresh(&refresh1).oauth_error().as_deref(), Some("invalid_grant"));
    assert_eq!(h.refresh(&refresh2).oauth_error().as_deref(), Some("invalid_grant"));
    assert_eq!(h.api("GET", "/api/v2/users/me", &access1).status, 401);
    assert_eq!(h.api("GET", "/api/v2/users/me", &access2).status, 401);
}

#[test]
fn refresh_policy_none_issues_no_refresh_token_and_refuses_the_grant() {
    let mut config = auto_config();
    config.refresh.policy = RefreshPolicy::None;
    let h = Harness::new(config);
    let (_, refresh) = h.login();
    assert_eq!(refresh, None);
    assert_eq!(h.refresh("anything").oauth_error().as_deref(), Some("unauthorized_client"));
}

#[test]
fn with_the_inactivity_timeout_on_a_code_grant_issues_no_refresh_token() {
    let h = Harness::new(Config { idle_timeout_s: 900, ..auto_config() });
    let (access, refresh) = h.login();
    assert_eq!(refresh, None, "no refresh token while the org's inactivity timeout is on");
    assert_eq!(h.api("GET", "/api/v2/users/me", &access).status, 200);
    let h = Harness::new(auto_config());
    assert!(h.login().1.is_some(), "a refresh token when it is off");
}

#[test]
fn rotated_refresh_tokens_never_outlive_the_family() {
    let mut config = auto_config();
    config.refresh.max_lifetime_s = 3600;
    let mut h = Harness::new(config);
    let (_, refresh) = h.login();
    h.now += 3_000_000;
    let r = h.refresh(&refresh.unwrap_or_default());
    let next = r.json()["refresh_token"].as_str().unwrap_or_default().to_string();
    h.now += 700_000;
    assert_eq!(h.refresh(&next).oauth_error().as_deref(), Some("invalid_grant"));
}

#[test]
fn token_endpoint_is_form_encoded_only_and_names_unknown_clients() {
    let h = Harness::new(auto_config());
    let req = http::Request::post("/oauth/token")
        .header("content-type", "application/json")
        .body(bytes::Bytes::from_static(b"{\"grant_type\":\"authorization_code\"}"));
    let a = h.send(req.unwrap_or_default());
    assert_eq!((a.status, a.oauth_error().as_deref()), (400, Some("invalid_request")));
    let a = h.post_form("/oauth/token", "grant_type=authorization_code&client_id=nope&code=x&code_verifier=y");
    assert_eq!(a.json()["description"], "client not found");
    let a = h.post_form("/oauth/token", "grant_type=password&client_id=nope");
    assert_eq!(a.oauth_error().as_deref(), Some("invalid_client"));
}

#[test]
fn loopback_redirect_registered_without_port_accepts_any_port() {
    let h = Harness::new(auto_config());
    let (code, verifier) = h.code_for(DEMO_CLIENT_ID, "http://127.0.0.1:49152/");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", &verifier),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", "http://127.0.0.1:49152/"),
    ]);
    assert_eq!(h.post_form("/oauth/token", &body).status, 200);
}

#[test]
fn a_verifier_of_the_wrong_length_is_refused_as_such() {
    let h = Harness::new(auto_config());
    let (code, _) = h.code();
    let a = h.exchange(&code, "too-short");
    assert_eq!(a.oauth_error().as_deref(), Some("invalid_grant"));
    assert!(a.text().contains("43..128"), "{}", a.text());
}

/// The login form's one-time token.
fn csrf_of(page: &str) -> String {
    page.split(r#"name="csrf" value=""#).nth(1).and_then(|v| v.split('"').next()).unwrap_or_default().to_string()
}

#[test]
fn a_login_decision_needs_the_forms_one_time_token() {
    let h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let decide = |csrf: &str| {
        h.post_form(
            "/oauth/authorize",
            &form(&[("authorize_query", &q), ("csrf", csrf), ("decision", "approve"), ("user", "sam")]),
        )
    };
    // A cross-site form has no token, or a made-up one.
    assert_eq!(decide("").status, 403);
    assert_eq!(decide("guessed").status, 403);
    let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
    assert!(csrf.len() >= 40, "{csrf}");
    assert!(decide(&csrf).location_param("code").is_some());
    assert_eq!(decide(&csrf).status, 403, "used once");
}

#[test]
fn a_login_session_does_not_silently_approve_a_loopback_redirect() {
    let h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
    let approve = h.post_form(
        "/oauth/authorize",
        &form(&[("authorize_query", &q), ("csrf", &csrf), ("decision", "approve"), ("user", "sam")]),
    );
    let session = approve.header("set-cookie").unwrap_or_default().split(';').next().unwrap_or("").to_string();
    let loopback = Harness::authorize_query(
        DEMO_CLIENT_ID,
        "http://127.0.0.1:49152/",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "s1",
    );
    let req =
        http::Request::get(format!("/oauth/authorize?{loopback}")).header("cookie", &session).body(bytes::Bytes::new());
    let shown = h.send(req.unwrap_or_default());
    assert_eq!(shown.status, 200, "the login page asks the user");
    assert!(shown.location_param("code").is_none());
}

#[test]
fn a_confidential_client_authenticates_with_http_basic_strictly() {
    use base64::Engine as _;
    let mut config = auto_config();
    config.clients.push(ClientConfig {
        id: "backend".into(),
        name: String::new(),
        kind: "confidential".into(),
        secret: Some("s3cret".into()),
        redirect_uris: vec![REDIRECT.into()],
        allowed_origins: vec![],
        token_duration_s: None,
    });
    config.refresh.policy = RefreshPolicy::ConfidentialOnly;
    let h = Harness::new(config);
    let refresh_with = |authorization: &str| {
        let req = http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", authorization)
            .body(bytes::Bytes::from_static(b"grant_type=refresh_token&refresh_token=unknown"));
        h.send(req.unwrap_or_default())
    };
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    // Authenticated: the (unknown) refresh token is what fails, not the client.
    assert_eq!(
        refresh_with(&format!("Basic {}", b64("backend:s3cret"))).oauth_error().as_deref(),
        Some("invalid_grant")
    );
    for bad in [format!("Basic {}", b64("backend:wrong")), "Basic YmFja2VuZDpzM2NyZXQ".into(), "Basic %%%".into()] {
        let a = refresh_with(&bad);
        assert_eq!(a.oauth_error().as_deref(), Some("invalid_client"), "{bad}");
    }
}

#[test]
fn s256_challenges_are_43_base64url_characters_and_plain_only_when_allowed() {
    let h = Harness::new(auto_config());
    let error = |h: &Harness, challenge: &str, method: &str| {
        let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, challenge, "s").replace("S256", method);
        let a = h.get(&format!("/oauth/authorize?{q}"));
        a.location_param("error").or_else(|| a.location_param("code").map(|_| "code".to_string()))
    };
    let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_eq!(error(&h, good, "S256").as_deref(), Some("code"));
    assert_eq!(error(&h, &format!("{good}a"), "S256").as_deref(), Some("invalid_pkce_package"), "44 characters");
    assert_eq!(error(&h, &good.replace('E', "~"), "S256").as_deref(), Some("invalid_pkce_package"), "not base64url");
    // With plain allowed (a setting for old clients), plain takes any valid verifier; other methods stay refused.
    let lax = Harness::new(Config { allow_plain_pkce: true, ..auto_config() });
    assert_eq!(error(&lax, &"a".repeat(50), "plain").as_deref(), Some("code"));
    assert_eq!(error(&lax, good, "S512").as_deref(), Some("invalid_pkce_package"));
}

/// How long a login page's form may be submitted (`store::CSRF_LIFETIME_MS`): half an hour.
const CSRF_LIFETIME_MS: u64 = 30 * 60_000;

#[test]
fn the_login_forms_token_lasts_exactly_its_lifetime() {
    let mut h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let approve = |h: &Harness, csrf: &str| {
        h.post_form(
            "/oauth/authorize",
            &form(&[("authorize_query", &q), ("csrf", csrf), ("decision", "approve"), ("user", "sam")]),
        )
    };
    let start = h.now;
    let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
    h.now = start + CSRF_LIFETIME_MS;
    assert!(approve(&h, &csrf).location_param("code").is_some(), "at its lifetime");
    h.now = start;
    let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
    h.now = start + CSRF_LIFETIME_MS + 1;
    assert_eq!(approve(&h, &csrf).status, 403, "a millisecond later");
}

#[test]
fn a_typed_user_name_wins_over_the_chosen_one() {
    let h = Harness::new(Config::default());
    let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "s9");
    let sign_in = |typed: &str, chosen: &str| {
        let csrf = csrf_of(&h.get(&format!("/oauth/authorize?{q}")).text());
        let fields = [
            ("authorize_query", q.as_str()),
            ("csrf", &csrf),
            ("decision", "approve"),
            ("user", chosen),
            ("user_typed", typed),
        ];
        h.post_form("/oauth/authorize", &form(&fields))
    };
    assert!(sign_in("sam", "").location_param("code").is_some(), "typed");
    assert!(sign_in("  ", "sam").location_param("code").is_some(), "blank typed: the chosen one");
    assert_eq!(sign_in("nobody", "sam").location_param("code"), None, "typed wins, and is unknown");
}

#[test]
fn a_public_client_may_send_an_empty_secret_but_no_other_and_grant_type_is_required() {
    let h = Harness::new(auto_config());
    let exchange = |secret: Option<&str>| {
        let (code, verifier) = h.code();
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(s) = secret {
            fields.push(("client_secret", s));
        }
        h.post_form("/oauth/token", &form(&fields))
    };
    assert_eq!(exchange(Some("")).status, 200, "an empty secret is no secret");
    let wrong = exchange(Some("guess"));
    assert_eq!((wrong.status, wrong.oauth_error().as_deref()), (401, Some("invalid_client")));
    let none = h.post_form("/oauth/token", &form(&[("client_id", DEMO_CLIENT_ID), ("code", "x")]));
    assert_eq!((none.status, none.oauth_error().as_deref()), (400, Some("invalid_request")));
}

#[test]
fn a_refresh_token_past_its_lifetime_is_refused_even_before_it_is_swept() {
    let mut config = auto_config();
    config.refresh.max_lifetime_s = 3600;
    let mut h = Harness::new(config);
    let start = h.now;
    let (_, refresh) = h.login();
    let refresh = refresh.unwrap_or_default();
    // A request half a second before the end sweeps the store (at most once a second); the refresh comes at the
    // end itself, before the next sweep.
    h.now = start + 3_600_000 - 500;
    assert_eq!(h.get("/api/v2/users/me").status, 401);
    h.now = start + 3_600_000;
    assert_eq!(h.refresh(&refresh).oauth_error().as_deref(), Some("invalid_grant"));
}

#[test]
fn plain_pkce_when_allowed_still_needs_the_verifier_to_equal_the_challenge() {
    let h = Harness::new(Config { allow_plain_pkce: true, ..auto_config() });
    let challenge = "p".repeat(50);
    let code = || {
        let q = Harness::authorize_query(DEMO_CLIENT_ID, REDIRECT, &challenge, "s").replace("S256", "plain");
        h.get(&format!("/oauth/authorize?{q}")).location_param("code").unwrap_or_default()
    };
    assert_eq!(h.exchange(&code(), &"q".repeat(50)).oauth_error().as_deref(), Some("invalid_grant"));
    assert_eq!(h.exchange(&code(), &challenge).status, 200);
}
