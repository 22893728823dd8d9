//! The Rust face and the engine in a real browser (wasm-bindgen-test in headless Chromium), through the one
//! executor (`js/executor.js`): storage, callback handling, the fetch host rule, single-flight refresh, refused
//! refreshes and the loop guard. `window.fetch` is replaced by a counting fake where a test needs answers; the
//! end-to-end suites use the real emulator.

#![cfg(target_arch = "wasm32")]

use genesys_auth::{Error, OsRng, Region, TokenSet};
use genesys_auth_web::{Auth, Config, StorageKind};
use wasm_bindgen::{JsCast, JsValue};
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
    // A login started by this page (parked as the redirect login parks it).
    let c = config("state", StorageKind::Memory);
    let client =
        genesys_auth::Client::new(c.region.clone(), "state", &c.redirect_uri).unwrap_or_else(|e| panic!("{e}"));
    let (url, pending) =
        client.authorize().build(&mut OsRng, js_sys::Date::now() as u64).unwrap_or_else(|e| panic!("{e}"));
    assert!(url.starts_with("http://127.0.0.1:9/oauth/authorize?"));
    session().set_item("genesys-auth:state:pending", &pending.to_storage()).unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(c).unwrap_or_else(|e| panic!("{e}"));
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

const REFUSE: &str = r#"window.__calls = 0; window.fetch = () => { window.__calls++; return Promise.resolve(new Response(
    JSON.stringify({error: 'invalid_grant', error_description: 'x'}), {status: 400})); };"#;

#[wasm_bindgen_test]
async fn refused_refresh_keeps_a_token_that_is_still_valid() {
    let real_fetch = eval("window.fetch");
    eval(REFUSE);
    let key = "genesys-auth:stillvalid:tokens";
    // Inside the refresh skew (60 s), not yet expired.
    session()
        .set_item(key, &stored_tokens("stillvalid", js_sys::Date::now() as u64 + 20_000, true))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("stillvalid", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    let first = auth.access_token().await;
    let second = auth.access_token().await;
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert_eq!(first.as_deref(), Ok("AT-stored"));
    assert_eq!(second.as_deref(), Ok("AT-stored"));
    assert_eq!(eval("window.__calls").as_f64(), Some(1.0), "a refused refresh token is not sent again");
    assert!(auth.is_authenticated());
    let stored = TokenSet::from_storage(&session().get_item(key).ok().flatten().unwrap_or_default());
    assert!(stored.is_ok_and(|t| t.refresh.is_none()), "the refused refresh token is forgotten in storage too");
}

#[wasm_bindgen_test]
async fn refused_refresh_clears_the_session() {
    let real_fetch = eval("window.fetch");
    eval(REFUSE);
    let key = "genesys-auth:refused:tokens";
    session()
        .set_item(key, &stored_tokens("refused", js_sys::Date::now() as u64 - 1_000, true))
        .unwrap_or_else(|_| panic!("set"));
    let auth = Auth::new(config("refused", StorageKind::Session)).unwrap_or_else(|e| panic!("{e}"));
    let result = auth.access_token().await;
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert_eq!(eval("window.__calls").as_f64(), Some(1.0), "the refresh was attempted, and refused");
    assert_eq!(result, Err(Error::LoginRequired));
    assert!(!auth.is_authenticated());
    assert_eq!(session().get_item(key).ok().flatten(), None);
}

#[wasm_bindgen_test]
async fn every_caller_of_one_failing_refresh_gets_the_real_error() {
    let real_fetch = eval("window.fetch");
    eval(
        r#"window.__calls = 0; window.fetch = () => { window.__calls++; return new Promise((ok) => setTimeout(() => ok(
            new Response('{}', {status: 503})), 30)); };"#,
    );
    let key = "genesys-auth:three:tokens";
    session()
        .set_item(key, &stored_tokens("three", js_sys::Date::now() as u64 - 1_000, true))
        .unwrap_or_else(|_| panic!("set"));
    let mut c = config("three", StorageKind::Session);
    c.retry.max_attempts = 1;
    let auth = Auth::new(c).unwrap_or_else(|e| panic!("{e}"));
    // Three callers at once (each started now, before the refresh's answer).
    let results = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    for _ in 0..3 {
        let (auth, results) = (auth.clone(), results.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let result = auth.access_token().await;
            results.borrow_mut().push(result);
        });
    }
    for _ in 0..100 {
        if results.borrow().len() == 3 {
            break;
        }
        let tick = js_sys::Promise::new(&mut |ok, _| {
            drop(eval("setTimeout").dyn_into::<js_sys::Function>().map(|f| f.call2(&JsValue::NULL, &ok, &20.into())))
        });
        let _ = wasm_bindgen_futures::JsFuture::from(tick).await;
    }
    let _ = js_sys::Reflect::set(&js_sys::global(), &"fetch".into(), &real_fetch);
    assert_eq!(eval("window.__calls").as_f64(), Some(1.0), "one refresh for three callers");
    assert_eq!(*results.borrow(), vec![Err(Error::Server { status: 503 }); 3]);
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/executor.js")]
extern "C" {
    #[wasm_bindgen(js_name = handledActions)]
    fn handled_actions() -> Vec<String>;
}

/// Every action the engine can write has its case in the executor, and the executor handles nothing else: a new
/// action fails here until `js/executor.js` handles it.
#[wasm_bindgen_test]
fn the_executor_handles_every_action_of_the_engine() {
    let mut handled = handled_actions();
    handled.sort();
    let mut defined: Vec<String> = genesys_auth_web::engine::ACTIONS.iter().map(|s| s.to_string()).collect();
    defined.sort();
    assert_eq!(handled, defined);
    // And the events JS feeds by name are the engine's own list.
    use genesys_auth_web::engine::event;
    assert_eq!(event::NAMES[usize::from(event::FETCH)], "fetch");
    assert_eq!(event::NAMES[usize::from(event::RESTORED)], "restored");
    assert_eq!(event::NAMES.len(), usize::from(event::RESTORED) + 1);
}

#[wasm_bindgen_test]
async fn automatic_sign_in_twice_within_a_minute_is_a_loop_not_a_redirect() {
    let real_fetch = eval("window.fetch");
    eval(REFUSE);
    session()
        .set_item("genesys-auth:loop:tokens", &stored_tokens("loop", js_sys::Date::now() as u64 - 1_000, true))
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

/// The engine as the executor drives it: options, events in, action lines out.
mod engine {
    use super::*;
    use genesys_auth_web::engine::{Engine, event};

    fn code(err: Option<&Error>) -> &'static str {
        err.map_or("", Error::code)
    }

    /// The engine's options as `engineOptions` writes them, from region, clientId, redirectUri, storage, scope (each
    /// `None` where not given), with `attempts` retry attempts where given.
    fn options(texts: &[Option<&str>], attempts: Option<u32>) -> String {
        let mut fields: Vec<String> = ["region", "clientId", "redirectUri", "storage", "scope"]
            .iter()
            .zip(texts)
            .filter_map(|(k, v)| v.map(|v| format!("\"{k}\":\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))))
            .collect();
        if let Some(n) = attempts {
            fields.push(format!("\"retry\":{{\"maxAttempts\":{n}}}"));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// An engine for these options, restored from the stored tokens `texts[5]` (if any).
    fn new_with(texts: &[Option<&str>], attempts: Option<u32>) -> Result<Engine, Error> {
        let mut e = Engine::new(&options(texts, attempts))?;
        e.feed(event::RESTORED, 0, None, texts.get(5).copied().flatten(), None, None);
        Ok(e)
    }

    fn new(texts: &[Option<&str>]) -> Result<Engine, Error> {
        new_with(texts, None)
    }

    fn actions(e: &mut Engine) -> Vec<String> {
        std::iter::from_fn(|| e.next().map(str::to_string)).collect()
    }

    #[wasm_bindgen_test]
    fn unusable_options_are_typed_errors() {
        let made = |region: Option<&str>, client: Option<&str>, storage: Option<&str>| {
            new(&[region, client, Some("http://localhost:3000/"), storage]).err().map(|e| e.code())
        };
        assert_eq!(made(None, Some("cid"), None), Some("invalid_config"));
        assert_eq!(made(Some("mars_north_1"), Some("cid"), None), Some("unknown_region"));
        assert_eq!(made(Some("eu_west_1"), None, None), Some("invalid_config"));
        assert_eq!(made(Some("eu_west_1"), Some("cid"), Some("cookies")), Some("invalid_config"));
        assert_eq!(made(Some("eu_west_1"), Some("cid"), Some("local")), None);
    }

    #[wasm_bindgen_test]
    fn a_redirect_login_parks_the_pending_login_before_navigating() {
        let mut e = new(&[Some("http://127.0.0.1:9"), Some("cid"), Some("http://localhost:3000/")])
            .unwrap_or_else(|e| panic!("{e}"));
        e.feed(event::LOGIN_REDIRECT, 1, None, Some("/inbox"), None, None); // back at /inbox
        let done = actions(&mut e);
        assert_eq!(done.len(), 3, "{done:?}");
        assert!(done[0].starts_with("store\npending\nown\ngenesys-auth:cid:pending\n"), "{done:?}");
        assert!(done[1].starts_with("navigate\nhttp://127.0.0.1:9/oauth/authorize?"), "{done:?}");
        assert!(done[1].contains("code_challenge_method=S256"));
        assert_eq!(done[2], "ok\n1");
        let pending = done[0].splitn(5, '\n').nth(4).unwrap_or_default().to_string();
        let state = e.callback_state("http://localhost:3000/?code=c&state=x");
        assert_eq!(state.as_deref(), Some("x"));
        // A callback with another state: refused, the address bar cleaned, the pending login used up.
        e.feed(
            event::CALLBACK,
            2,
            None,
            Some("http://localhost:3000/?code=c&state=forged&app=1"),
            Some(&pending),
            None,
        );
        let done = actions(&mut e);
        let removed = "remove\npending\nown\ngenesys-auth:cid:pending";
        assert_eq!(done, ["address\nhttp://localhost:3000/?app=1", removed, "fail\n2"], "{done:?}");
        assert_eq!(code(e.error()), "state_mismatch");
    }

    #[wasm_bindgen_test]
    fn login_parameters_reach_the_authorize_url_and_a_refused_one_fails_the_login() {
        let mut e = new(&[Some("http://127.0.0.1:9"), Some("cid"), Some("http://localhost:3000/")])
            .unwrap_or_else(|e| panic!("{e}"));
        e.feed(
            event::LOGIN_REDIRECT,
            1,
            None,
            None,
            Some("org=acme+corp&provider=okta&login_hint=sam%40example.com"),
            None,
        );
        let done = actions(&mut e);
        assert_eq!(done.len(), 3, "{done:?}");
        assert!(done[1].ends_with("&org=acme+corp&provider=okta&login_hint=sam%40example.com"), "{done:?}");
        for refused in ["state=mine", "org=acme", "bad%20name=1", "prompt=a%0Ab"] {
            e.feed(event::LOGIN_REDIRECT, 2, None, None, Some(refused), None);
            assert_eq!(actions(&mut e), ["fail\n2"], "{refused}");
            assert_eq!(code(e.error()), "invalid_config", "{refused}");
        }
    }

    #[wasm_bindgen_test]
    fn api_url_applies_the_host_rule_for_other_http_clients() {
        let e = new(&[Some("http://127.0.0.1:9"), Some("cid"), Some("http://localhost:3000/")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.api_url("/api/v2/users/me").as_deref(), Some("http://127.0.0.1:9/api/v2/users/me"));
        assert_eq!(e.api_url("http://127.0.0.1:9/api/v2/x").as_deref(), Some("http://127.0.0.1:9/api/v2/x"));
        for foreign in
            ["http://127.0.0.2:9/api", "//evil.example/x", "http://127.0.0.1:9@evil.example/", "https://evil.example/"]
        {
            assert_eq!(e.api_url(foreign), None, "{foreign}");
        }
    }

    #[wasm_bindgen_test]
    fn the_token_goes_only_to_the_api_origin() {
        let stored = stored_tokens("cid", js_sys::Date::now() as u64 + 3_600_000, true);
        let region = "http://127.0.0.1:9";
        let mut e = new(&[
            Some(region),
            Some("cid"),
            Some(&config("cid", StorageKind::Memory).redirect_uri),
            Some("session"),
            None,
            Some(&stored),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        e.feed(event::FETCH, 1, None, Some("https://evil.example/api/v2/users/me"), None, None);
        assert_eq!(actions(&mut e), ["fail\n1"]);
        e.feed(event::FETCH, 2, None, Some("/api/v2/users/me"), None, None);
        let sent = actions(&mut e);
        assert_eq!(sent.len(), 1, "{sent:?}");
        let fields: Vec<&str> = sent[0].split('\n').collect();
        assert_eq!(fields[..5], ["send", "1", "api", "http://127.0.0.1:9/api/v2/users/me", "AT-stored"]);
    }

    #[wasm_bindgen_test]
    fn errors_lose_the_token_values_held() {
        // A short token, which pattern-based redaction of long token-like runs would miss.
        let tokens = TokenSet {
            access: genesys_auth::AccessToken::new("s3cr3t"),
            refresh: None,
            expires_at_ms: js_sys::Date::now() as u64 + 3_600_000,
            scope: None,
            token_type: "bearer".into(),
        };
        let c = config("cid", StorageKind::Session);
        let client = genesys_auth::Client::new(c.region, "cid", &c.redirect_uri).unwrap_or_else(|e| panic!("{e}"));
        let stored = tokens.to_storage_for(&client);
        let texts = [
            Some("http://127.0.0.1:9"),
            Some("cid"),
            Some(c.redirect_uri.as_str()),
            Some("session"),
            None,
            Some(&stored),
        ];
        // One attempt: the network failure ends the call at once.
        let mut e = new_with(&texts, Some(1)).unwrap_or_else(|e| panic!("{e}"));
        e.feed(event::FETCH, 1, None, Some("/api/v2/users/me"), None, None);
        assert_eq!(actions(&mut e).len(), 1);
        e.feed(event::NETWORK, 1, None, Some("proxy refused Authorization: Bearer s3cr3t"), None, None);
        assert_eq!(actions(&mut e), ["fail\n1"]);
        let message = e.error().map(Error::message).unwrap_or_default();
        assert_eq!(code(e.error()), "network_error");
        assert!(message.contains("proxy refused") && !message.contains("s3cr3t"), "{message}");
    }

    #[cfg(feature = "engine")]
    #[wasm_bindgen_test]
    fn regions_from_host_parameters() {
        use genesys_auth_web::engine::region_from_host_params;
        assert_eq!(
            region_from_host_params("gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie", "", None)
                .ok()
                .flatten()
                .as_deref(),
            Some("mypurecloud.ie")
        );
        assert!(region_from_host_params("gcHostOrigin=https%3A%2F%2Fevil.example", "", None).is_err());
        // An origin the app allows (form-encoded, as `regionFromHostParams` in npm/index.js sends them), and only it.
        let emulator = "gcHostOrigin=http%3A%2F%2F127.0.0.1%3A8080";
        let allow = "a=http%3A%2F%2Flocalhost%3A9&a=&a=http%3A%2F%2F127.0.0.1%3A8080";
        let region = region_from_host_params(emulator, allow, None).ok().flatten();
        assert_eq!(region.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(region_from_host_params(emulator, "a=http%3A%2F%2Flocalhost%3A9", None).is_err());
        let remembered = region_from_host_params("", allow, Some("http://127.0.0.1:8080".into())).ok().flatten();
        assert_eq!(remembered.as_deref(), Some("http://127.0.0.1:8080"));
        // The same rule as for the parameters: an allowed origin matches with or without its trailing slash.
        let remembered = region_from_host_params("", allow, Some("http://127.0.0.1:8080/".into())).ok().flatten();
        assert_eq!(remembered.as_deref(), Some("http://127.0.0.1:8080"));
        let remembered = region_from_host_params("", "", Some("mypurecloud.de".into())).ok().flatten();
        assert_eq!(remembered.as_deref(), Some("mypurecloud.de"));
        assert_eq!(region_from_host_params("", "", Some("http://127.0.0.1:8080".into())).ok().flatten(), None);
    }

    /// The functions JS calls (`class Engine` of `js/executor.js`): texts through the buffer, errors as fields.
    #[wasm_bindgen_test]
    fn the_wire_carries_texts_both_ways_and_errors_as_fields() {
        use genesys_auth_web::engine::wire;
        use wasm_bindgen::JsCast;
        let memory = || {
            js_sys::Uint8Array::new(&wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer())
        };
        let put = |parts: &[Option<&[u8]>]| -> Vec<i32> {
            let mut at = wire::io(parts.iter().flatten().map(|p| p.len() as u32).sum());
            parts
                .iter()
                .map(|p| match p {
                    Some(p) => {
                        memory().set(&js_sys::Uint8Array::from(*p), at);
                        at += p.len() as u32;
                        p.len() as i32
                    }
                    None => -1,
                })
                .collect()
        };
        let read = || {
            let n = wire::len();
            String::from_utf8(memory().subarray(wire::io(n), wire::io(n) + n).to_vec()).unwrap_or_default()
        };
        let nan = f64::NAN;
        let engine = |texts: &[&str], attempts: Option<u32>| {
            let texts: Vec<Option<&str>> = texts.iter().map(|t| Some(*t)).collect();
            let [len] = put(&[Some(options(&texts, attempts).as_bytes())])[..] else { panic!() };
            wire::new(len)
        };
        assert_eq!(engine(&["mars_north_1", "cid", "http://localhost:3000/"], None), -1);
        let fields: Vec<(String, String)> = genesys_auth::form::parse(&read()).collect();
        assert_eq!(fields[0], ("code".into(), "unknown_region".into()));
        assert!(fields[1].0 == "message" && fields[1].1.starts_with("unknown Genesys Cloud region \"mars_north_1\""));

        let h = engine(&["http://127.0.0.1:9", "cid", "http://localhost:3000/"], Some(1));
        assert!(h >= 0);
        let h = h as u32;
        assert!(wire::expires_at(h).is_nan() && wire::wake_at(h).is_nan());
        let [a, b, body] = put(&[Some("/api/v2/users/me".as_bytes()), None, None])[..] else { panic!() };
        assert_eq!((b, body), (-1, -1));
        wire::feed(h, event::FETCH, 7, nan, a, b, body); // a fetch while signed out
        assert!(wire::next(h));
        assert_eq!(read(), "fail\n7");
        assert!(!wire::next(h));
        assert!(wire::error(h));
        assert!(read().starts_with("code=login_required&message=not+signed+in"));
        // The host rule, and an answer's text back.
        let [p] = put(&[Some("/api/v2/x?q=ü".as_bytes())])[..] else { panic!() };
        assert!(wire::api_url(h, p));
        assert_eq!(read(), "http://127.0.0.1:9/api/v2/x?q=ü");
        let [p] = put(&[Some("https://evil.example/api/v2/x".as_bytes())])[..] else { panic!() };
        assert!(!wire::api_url(h, p));
        // Every field a GenesysAuthError can carry.
        let oauth = Error::OAuth {
            code: genesys_auth::OAuthErrorCode::InvalidGrant,
            description: Some("used & gone".into()),
            status: 400,
        };
        let fields: Vec<(String, String)> = genesys_auth::form::parse(&wire::fields(&oauth)).collect();
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["code", "message", "oauthError", "status"]);
        assert_eq!((fields[2].1.as_str(), fields[3].1.as_str()), ("invalid_grant", "400"));
        assert!(fields[1].1.contains("used & gone"));
        let limited = wire::fields(&Error::RateLimited { retry_after_ms: Some(2_500) });
        assert!(limited.ends_with("&retryAfterMs=2500"), "{limited}");
        let redirected = wire::fields(&Error::Redirected { status: 302 });
        assert!(redirected.starts_with("code=redirected&") && redirected.ends_with("&status=302"), "{redirected}");
        let unauthorized = wire::fields(&Error::Unauthorized { code: "authentication.required".into() });
        assert!(unauthorized.ends_with("&apiCode=authentication.required"), "{unauthorized}");
        wire::free(h);
        assert!(!wire::next(h) && !wire::api_url(h, -1));
    }

    /// After a sign-out, no byte of the access or refresh token is left anywhere in wasm memory: the texts JS handed
    /// in, the actions' texts, the shared buffer and the parsed stored tokens were wiped, not just freed. The tokens
    /// are made in JS and never copied into Rust values of this test.
    #[wasm_bindgen_test]
    fn no_token_is_left_in_wasm_memory_after_a_sign_out() {
        use genesys_auth_web::engine::wire;
        use wasm_bindgen::JsCast;
        let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        // JS makes the tokens and the stored text, writes texts into the engine's buffer, and searches memory.
        let js = js_sys::Function::new_with_args(
            "mem, origin",
            "const r = () => Math.random().toString(36).slice(2);
             const access = 'AT' + r() + r() + r(), refresh = 'RT' + r() + r() + r();
             const enc = new TextEncoder();
             const stored = `v=1&access=${access}&expires_at=${Date.now() + 3600000}&token_type=bearer&refresh=${refresh}`
               + `&login=${encodeURIComponent('http://127.0.0.1:9')}&api=${encodeURIComponent('http://127.0.0.1:9')}&client=wipe`;
             return {
               stored: enc.encode(stored),
               options: enc.encode(JSON.stringify({ region: 'http://127.0.0.1:9', clientId: 'wipe', redirectUri: origin + '/', storage: 'local' })),
               write: (at, bytes) => new Uint8Array(mem.buffer, at, bytes.length).set(bytes),
               found: () => { const all = new TextDecoder('latin1').decode(new Uint8Array(mem.buffer));
                 return [access, refresh].filter((t) => all.includes(t)).length; },
             };",
        );
        let t = js.call2(&JsValue::NULL, &memory, &origin.into()).unwrap_or_else(|e| panic!("{e:?}"));
        let get = |k: &str| js_sys::Reflect::get(&t, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let write = get("write").unchecked_into::<js_sys::Function>();
        let found = get("found").unchecked_into::<js_sys::Function>();
        let hand_in = |bytes: &JsValue| {
            let len = js_sys::Uint8Array::from(bytes.clone()).length();
            let at = wire::io(len);
            let _ = write.call2(&JsValue::NULL, &at.into(), bytes);
            len as i32
        };
        let count = || found.call0(&JsValue::NULL).ok().and_then(|v| v.as_f64()).unwrap_or(-1.0);
        let h = wire::new(hand_in(&get("options")));
        assert!(h >= 0);
        let h = h as u32;
        let drain = || {
            while wire::next(h) {
                wire::wipe(); // as the executor's read() does
            }
        };
        let stored = hand_in(&get("stored"));
        wire::feed(h, event::RESTORED, 0, f64::NAN, stored, -1, -1);
        drain();
        assert_eq!(count(), 2.0, "the session holds both tokens while signed in");
        wire::feed(h, event::WANT_TOKEN, 1, f64::NAN, -1, -1, -1);
        drain(); // the token went out, in an action's text
        wire::feed(h, event::LOGOUT, 2, f64::NAN, -1, -1, -1);
        drain(); // the lock, the removal, the revocation with the token
        let granted = hand_in(&get("stored"));
        wire::feed(h, event::LOCK_GRANTED, 0, f64::NAN, granted, -1, -1);
        drain();
        wire::free(h);
        assert_eq!(count(), 0.0, "a token is left in wasm memory");
    }

    /// The public `to_js`: the same `GenesysAuthError` the npm package throws, every field in place.
    #[wasm_bindgen_test]
    fn to_js_builds_the_packages_error_object() {
        let get = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let oauth = Error::OAuth {
            code: genesys_auth::OAuthErrorCode::InvalidGrant,
            description: Some("used".into()),
            status: 400,
        };
        let e = genesys_auth_web::to_js(&oauth);
        assert!(wasm_bindgen::JsCast::is_instance_of::<js_sys::Error>(&e));
        assert_eq!(get(&e, "name").as_string().as_deref(), Some("GenesysAuthError"));
        assert_eq!(get(&e, "code").as_string().as_deref(), Some("oauth_error"));
        assert_eq!(get(&e, "oauthError").as_string().as_deref(), Some("invalid_grant"));
        assert_eq!(get(&e, "status").as_f64(), Some(400.0));
        assert_eq!(get(&e, "message").as_string(), Some(oauth.message()));
        let e = genesys_auth_web::to_js(&Error::RateLimited { retry_after_ms: Some(2_500) });
        assert_eq!(get(&e, "retryAfterMs").as_f64(), Some(2_500.0));
        assert!(get(&e, "status").is_undefined());
        let e = genesys_auth_web::to_js(&Error::Unauthorized { code: "bad.credentials".into() });
        assert_eq!(get(&e, "apiCode").as_string().as_deref(), Some("bad.credentials"));
    }
}
