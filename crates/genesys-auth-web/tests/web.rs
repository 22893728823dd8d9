//! The driver's pieces in a real browser (wasm-bindgen-test in headless Chromium): storage, callback
//! handling, the fetch wrapper and single-flight refresh. `window.fetch` is replaced by a counting fake where a
//! test needs answers; the end-to-end suites use the real emulator.

#![cfg(target_arch = "wasm32")]

use genesys_auth::{Error, Region, TokenSet};
use genesys_auth_web::{Auth, Config, StorageKind};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn config(client_id: &str, storage: StorageKind) -> Config {
    let region = Region::custom("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let mut c = Config::new(region, client_id, &format!("{origin}/"));
    c.storage = storage;
    // A test page must not navigate away; the automatic sign-in is tested by its loop guard below and end to end.
    c.relogin = false;
    c
}

fn session() -> web_sys::Storage {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten()).unwrap_or_else(|| panic!("no sessionStorage"))
}

fn set_url(url: &str) {
    let history = web_sys::window().and_then(|w| w.history().ok()).unwrap_or_else(|| panic!("no history"));
    history.replace_state_with_url(&JsValue::NULL, "", Some(url)).unwrap_or_else(|_| panic!("replaceState"));
}

fn href() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

fn eval(js: &str) -> JsValue {
    js_sys::eval(js).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A token set as the driver stores it for the client `client_id` of [`config`]: bound to its region and client.
fn stored_tokens(client_id: &str, expires_at_ms: u64, refresh: bool) -> String {
    let tokens = TokenSet {
        access: genesys_auth::AccessToken::new("AT-stored"),
        refresh: refresh.then(|| genesys_auth::RefreshToken::new("RT-stored")),
        expires_at_ms,
        scope: None,
        token_type: "bearer".into(),
    };
    let c = config(client_id, StorageKind::Session);
    let client = genesys_auth::Client::new(c.region, client_id, &c.redirect_uri).unwrap_or_else(|e| panic!("{e}"));
    tokens.to_storage_for(&client)
}

#[wasm_bindgen_test]
fn tampered_storage_is_discarded_not_trusted() {
    for (i, bad) in
        ["v=1&access=a b&expires_at=1&token_type=bearer", "{\"access\":\"x\"}", &"x".repeat(200_000)].iter().enumerate()
    {
        let id = format!("tamper-{i}");
        let key = format!("genesys-auth:{id}:tokens");
        session().set_item(&key, bad).unwrap_or_else(|_| panic!("set"));
        let auth = Auth::new(config(&id, StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!auth.is_authenticated());
        assert!(matches!(auth.discarded_storage(), Some(Error::CorruptStorage { .. })));
        assert_eq!(session().get_item(&key).ok().flatten(), None, "discarded content is removed");
    }
}

#[wasm_bindgen_test]
fn valid_session_storage_restores_the_login() {
    let key = "genesys-auth:restore:tokens";
    session()
        .set_item(key, &stored_tokens("restore", js_sys::Date::now() as u64 + 3_600_000, false))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("restore", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    assert!(auth.is_authenticated());
    // Memory storage never reads storage.
    let memory = Auth::new(config("restore", StorageKind::Memory)).unwrap_or_else(|e| panic!("{e}"));
    assert!(!memory.is_authenticated());
}

#[wasm_bindgen_test]
async fn a_url_without_callback_is_left_alone() {
    set_url("/?page=1");
    let auth = Auth::new(config("plain", StorageKind::Memory)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(auth.handle_redirect_callback().await, Ok(None));
    assert!(href().ends_with("/?page=1"));
}

#[wasm_bindgen_test]
async fn callback_without_pending_login_is_refused_and_cleaned_from_the_address_bar() {
    set_url("/?code=abc&state=xyz&tab=2");
    let auth = Auth::new(config("nopending", StorageKind::Memory)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(auth.handle_redirect_callback().await, Err(Error::NoPendingLogin));
    let url = href();
    assert!(!url.contains("code=") && !url.contains("state=") && url.contains("tab=2"), "{url}");
}

#[wasm_bindgen_test]
async fn callback_with_a_foreign_state_is_refused_and_the_pending_login_used_up() {
    let auth = Auth::new(config("state", StorageKind::Memory)).unwrap_or_else(|e| panic!("{e}"));
    let url = auth.prepare_login(Some("/back")).unwrap_or_else(|e| panic!("{e}"));
    assert!(url.starts_with("http://127.0.0.1:9/oauth/authorize?"));
    assert!(session().get_item("genesys-auth:state:pending").ok().flatten().is_some());
    set_url("/?code=abc&state=forged");
    assert_eq!(auth.handle_redirect_callback().await, Err(Error::StateMismatch));
    assert_eq!(session().get_item("genesys-auth:state:pending").ok().flatten(), None);
    assert!(!auth.is_authenticated());
}

#[wasm_bindgen_test]
async fn fetch_never_sends_the_token_to_another_host() {
    let key = "genesys-auth:foreign:tokens";
    session()
        .set_item(key, &stored_tokens("foreign", js_sys::Date::now() as u64 + 3_600_000, false))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("foreign", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    for url in ["https://evil.example/api/v2/users/me", "//evil.example/x", "http://127.0.0.1:9.evil.example/"] {
        let err = auth.fetch(url, &JsValue::UNDEFINED).await.err();
        assert!(matches!(err, Some(Error::InvalidConfig { field: "url", .. })), "{url}: {err:?}");
    }
}

#[wasm_bindgen_test]
async fn no_session_means_login_required() {
    let auth = Auth::new(config("nosession", StorageKind::Memory)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(auth.access_token().await, Err(Error::LoginRequired));
    assert_eq!(auth.fetch("/api/v2/users/me", &JsValue::UNDEFINED).await.err(), Some(Error::LoginRequired));
}

#[wasm_bindgen_test]
async fn concurrent_callers_share_one_refresh() {
    let real_fetch = eval("window.fetch");
    eval(
        r#"window.__calls = 0; window.fetch = (req) => { window.__calls++; return new Promise((ok) => setTimeout(() => ok(
            new Response(JSON.stringify({access_token: 'AT-new-' + window.__calls, token_type: 'bearer', expires_in: 3600, refresh_token: 'RT-new'}),
            {status: 200, headers: {'content-type': 'application/json'}})), 30)); };"#,
    );
    let key = "genesys-auth:flight:tokens";
    session()
        .set_item(key, &stored_tokens("flight", js_sys::Date::now() as u64 + 1_000, true))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("flight", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    // All ten start before any finishes (spawned now, not awaited one by one): without single flight this makes
    // ten refresh requests.
    let calls: Vec<wasm_bindgen_futures::JsFuture> = (0..10)
        .map(|_| {
            let auth = auth.clone();
            wasm_bindgen_futures::JsFuture::from(wasm_bindgen_futures::future_to_promise(async move {
                auth.access_token().await.map(|t| JsValue::from_str(&t)).map_err(|e| JsValue::from_str(e.code()))
            }))
        })
        .collect();
    let mut results = Vec::new();
    for c in calls {
        results.push(c.await.map(|v| v.as_string().unwrap_or_default()).map_err(|e| e.as_string().unwrap_or_default()));
    }
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert!(results.iter().all(|r| r.as_deref() == Ok("AT-new-1")), "{results:?}");
    assert_eq!(eval("window.__calls").as_f64(), Some(1.0), "one refresh request for ten callers");
    let stored = session().get_item(key).ok().flatten().unwrap_or_default();
    let tokens = TokenSet::from_storage(&stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        tokens.refresh.map(|r| r.secret().to_string()).as_deref(),
        Some("RT-new"),
        "rotated refresh token stored"
    );
}

#[wasm_bindgen_test]
async fn refused_refresh_clears_the_session() {
    let real_fetch = eval("window.fetch");
    eval(
        r#"window.fetch = () => Promise.resolve(new Response(JSON.stringify({error: 'invalid_grant', description: 'x', error_description: 'x'}), {status: 400}));"#,
    );
    let key = "genesys-auth:refused:tokens";
    session()
        .set_item(key, &stored_tokens("refused", js_sys::Date::now() as u64 + 1_000, true))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("refused", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    let result = auth.access_token().await;
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert_eq!(result, Err(Error::LoginRequired));
    assert!(!auth.is_authenticated());
    assert_eq!(session().get_item(key).ok().flatten(), None);
}

#[wasm_bindgen_test]
async fn automatic_sign_in_twice_within_a_minute_is_a_loop_not_a_redirect() {
    let real_fetch = eval("window.fetch");
    eval(
        r#"window.fetch = () => Promise.resolve(new Response(JSON.stringify({error: 'invalid_grant', description: 'x', error_description: 'x'}), {status: 400}));"#,
    );
    session()
        .set_item("genesys-auth:loop:tokens", &stored_tokens("loop", js_sys::Date::now() as u64 + 1_000, true))
        .unwrap_or_else(|_| panic!("set"));
    // An automatic sign-in happened just now.
    session()
        .set_item("genesys-auth:loop:relogin", &(js_sys::Date::now() as u64).to_string())
        .unwrap_or_else(|_| panic!("set"));
    let mut c = config("loop", StorageKind::Session);
    c.relogin = true;
    let auth = Auth::new(c).unwrap_or_else(|e| panic!("{e}"));
    let result = auth.access_token().await;
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert_eq!(result, Err(Error::ReloginLoop));
    assert!(href().starts_with(&web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()));
}

/// The npm package's engine: the decisions its JS class relies on, called as the class calls them.
#[cfg(feature = "engine")]
mod engine {
    use super::*;
    use genesys_auth_web::engine::{Engine, callback_state, failure, region_from_host_params, without_callback};

    fn code(err: &JsValue) -> String {
        js_sys::Reflect::get(err, &"code".into()).ok().and_then(|c| c.as_string()).unwrap_or_default()
    }

    fn engine() -> Engine {
        Engine::new(Some("http://127.0.0.1:9".into()), Some("cid".into()), "http://localhost:3000/".into(), None, None)
            .unwrap_or_else(|e| panic!("{}", code(&e)))
    }

    #[wasm_bindgen_test]
    fn unusable_options_are_typed_errors() {
        let new = |region: Option<&str>, client: Option<&str>, storage: Option<&str>| {
            Engine::new(
                region.map(str::to_string),
                client.map(str::to_string),
                "http://localhost:3000/".into(),
                storage.map(str::to_string),
                None,
            )
            .err()
            .map(|e| code(&e))
        };
        assert_eq!(new(None, Some("cid"), None).as_deref(), Some("invalid_config"));
        assert_eq!(new(Some("mars_north_1"), Some("cid"), None).as_deref(), Some("unknown_region"));
        assert_eq!(new(Some("eu_west_1"), None, None).as_deref(), Some("invalid_config"));
        assert_eq!(new(Some("eu_west_1"), Some("cid"), Some("cookies")).as_deref(), Some("invalid_config"));
        assert_eq!(new(Some("eu_west_1"), Some("cid"), Some("local")), None);
    }

    #[wasm_bindgen_test]
    fn a_login_round_trip_checks_the_state_in_the_engine() {
        let e = engine();
        let started = e.authorize(None, Some("/inbox?x=1".into())).unwrap_or_else(|e| panic!("{}", code(&e)));
        let started: Vec<String> = started.lines().map(str::to_string).collect();
        let [url, pending, state] = started.as_slice() else { panic!("{started:?}") };
        assert!(url.starts_with("http://127.0.0.1:9/oauth/authorize?") && url.contains("code_challenge_method=S256"));
        let callback = format!("http://localhost:3000/?code=abc&state={state}&app=1");
        assert_eq!(callback_state(&callback).as_deref(), Some(state.as_str()));
        assert_eq!(without_callback(&callback), "http://localhost:3000/?app=1");
        let exchange = e.exchange(Some(pending.clone()), &callback).unwrap_or_else(|e| panic!("{}", code(&e)));
        let exchange: Vec<&str> = exchange.lines().collect();
        assert_eq!(exchange[0], "http://127.0.0.1:9/oauth/token");
        assert!(exchange[1].contains("grant_type=authorization_code") && exchange[1].contains("code=abc"));
        assert_eq!(exchange[2..6], ["Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json"]);
        assert_eq!(exchange.get(6).copied(), Some("/inbox?x=1"));
        let forged = format!("http://localhost:3000/?code=abc&state=x{state}");
        assert_eq!(
            e.exchange(Some(pending.clone()), &forged).err().map(|e| code(&e)).as_deref(),
            Some("state_mismatch")
        );
        assert_eq!(e.exchange(None, &callback).err().map(|e| code(&e)).as_deref(), Some("no_pending_login"));
    }

    #[wasm_bindgen_test]
    fn token_answers_and_refusals() {
        let e = engine();
        let body = br#"{"access_token":"AT-1","token_type":"bearer","expires_in":3600,"refresh_token":"RT-1"}"#;
        let fields = e.tokens(200, None, body, false).unwrap_or_else(|e| panic!("{}", code(&e)));
        let fields: Vec<String> = fields.lines().map(str::to_string).collect();
        assert_eq!(fields[1], "AT-1");
        assert_eq!(fields[3], "1");
        let loaded = e.load(&fields[0]).ok().flatten().unwrap_or_default();
        assert_eq!(loaded.lines().nth(1), Some("AT-1"));
        let refresh = e.refresh(&fields[0]).unwrap_or_else(|e| panic!("{}", code(&e)));
        let refresh: Vec<&str> = refresh.lines().collect();
        assert!(refresh[1].contains("grant_type=refresh_token") && refresh[1].contains("refresh_token=RT-1"));
        let refused = br#"{"error":"invalid_grant"}"#;
        assert_eq!(e.tokens(400, None, refused, true).err().map(|e| code(&e)).as_deref(), Some("login_required"));
        assert_eq!(e.tokens(400, None, refused, false).err().map(|e| code(&e)).as_deref(), Some("oauth_error"));
        assert_eq!(
            e.load("v=1&access=a b&expires_at=1&token_type=bearer").err().map(|e| code(&e)).as_deref(),
            Some("corrupt_storage")
        );
    }

    #[wasm_bindgen_test]
    fn retries_and_the_api_host_rule() {
        let e = engine();
        assert_eq!(e.retry_delay(429, Some("2".into()), false, 1, 0.0), Some(2000.0));
        assert_eq!(e.retry_delay(404, None, false, 1, 0.0), None);
        assert_eq!(e.retry_delay(0, None, true, 1, 0.0), None, "a code is never sent twice after a network failure");
        assert_eq!(e.api_url("/api/v2/users/me").ok().as_deref(), Some("http://127.0.0.1:9/api/v2/users/me"));
        assert_eq!(e.api_url("https://evil.example/x").err().map(|e| code(&e)).as_deref(), Some("invalid_config"));
        assert_eq!(code(&e.api_error(401, None, b"{}")), "unauthorized");
        assert_eq!(code(&failure("popup_blocked", None, None)), "popup_blocked");
        assert_eq!(
            region_from_host_params("gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie", "", None)
                .ok()
                .flatten()
                .as_deref(),
            Some("mypurecloud.ie")
        );
        assert!(region_from_host_params("gcHostOrigin=https%3A%2F%2Fevil.example", "", None).is_err());
    }
}
