//! The Rust API: [`Auth`], for Rust front-ends (Leptos, Yew, Dioxus). A typed face over the browser's one executor
//! (`js/executor.js`, the same code the npm package runs) and the session engine: every decision is made in the
//! core's session machine, every browser call (fetch, timers, storage, Web Locks, BroadcastChannel, popups) is made
//! by the executor.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use genesys_auth::{Error, Region, RetryPolicy};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::browser::StorageKind;
use crate::engine::{Engine, ErrorTable};

#[wasm_bindgen(module = "/js/executor.js")]
extern "C" {
    type Executor;

    #[wasm_bindgen(js_name = engineOptions)]
    fn engine_options(options: &Object) -> String;

    #[wasm_bindgen(js_name = framed)]
    fn framed() -> bool;

    /// The JS face of engine `engine` (registered in [`crate::engine::wire`]) of the module whose exports are `wasm`.
    fn bind(wasm: JsValue, engine: u32) -> JsValue;

    #[wasm_bindgen(constructor)]
    fn new(engine: &JsValue, options: &Object) -> Executor;

    #[wasm_bindgen(method, js_name = handleRedirectCallback)]
    fn handle_redirect_callback(this: &Executor) -> Promise;

    #[wasm_bindgen(method)]
    fn login(this: &Executor, options: &Object) -> Promise;

    #[wasm_bindgen(method, js_name = accessToken)]
    fn access_token(this: &Executor) -> Promise;

    #[wasm_bindgen(method)]
    fn refresh(this: &Executor) -> Promise;

    #[wasm_bindgen(method)]
    fn fetch(this: &Executor, path_or_url: &str, init: &JsValue) -> Promise;

    #[wasm_bindgen(method, js_name = currentUser)]
    fn current_user(this: &Executor, expand: Option<&str>) -> Promise;

    #[wasm_bindgen(method)]
    fn logout(this: &Executor, options: &Object) -> Promise;

    #[wasm_bindgen(method, js_name = isAuthenticated)]
    fn is_authenticated(this: &Executor) -> bool;

    #[wasm_bindgen(method, js_name = isSignedOut)]
    fn is_signed_out(this: &Executor) -> bool;

    #[wasm_bindgen(method, js_name = shouldAutoLogin)]
    fn should_auto_login(this: &Executor) -> bool;

    #[wasm_bindgen(method, js_name = keepFresh)]
    fn keep_fresh(this: &Executor, on: bool);

    #[wasm_bindgen(method)]
    fn state(this: &Executor) -> JsValue;

    #[wasm_bindgen(method, js_name = onTokenChange)]
    fn on_token_change(this: &Executor, listener: &Function) -> u32;

    #[wasm_bindgen(method, js_name = offTokenChange)]
    fn off_token_change(this: &Executor, id: u32);

    #[wasm_bindgen(method, js_name = discardedStorage)]
    fn discarded_storage(this: &Executor) -> JsValue;
}

/// How to sign in: the OAuth client and the library's behaviour.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the org lives.
    pub region: Region,
    /// The OAuth client id (a public "Code Authorization" client with PKCE).
    pub client_id: String,
    /// The redirect URI registered on the client, exactly.
    pub redirect_uri: String,
    /// Scopes to request (optional: Genesys uses the client's configured scopes).
    pub scope: Option<String>,
    /// Where tokens live: memory (default), session or local storage.
    pub storage: StorageKind,
    /// Refresh this long before the access token expires.
    pub refresh_skew_ms: u64,
    /// Retries for 429, 502/503/504 and network failures.
    pub retry: RetryPolicy,
    /// When the session can no longer be refreshed (no refresh token, refused, revoked, idle timeout), sign in
    /// again by redirect, back to the current page (the Genesys login session makes it silent for a signed-in
    /// user). At most once a minute: a second failure ends in [`Error::ReloginLoop`] instead of a loop. Not in a
    /// frame, where the app gets [`Error::LoginRequired`] and signs in with a popup from a click.
    pub relogin: bool,
}

impl Config {
    /// A config with the defaults: memory storage, 60 s refresh skew, the default retry policy.
    pub fn new(region: Region, client_id: &str, redirect_uri: &str) -> Self {
        Config {
            region,
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope: None,
            storage: StorageKind::Memory,
            refresh_skew_ms: genesys_auth::session::DEFAULT_REFRESH_SKEW_MS,
            retry: RetryPolicy::default(),
            relogin: true,
        }
    }
}

/// How [`Auth::login_with`] signs in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// The same-origin path to come back to.
    pub return_to: Option<String>,
    /// `Some(true)` a popup, `Some(false)` a redirect, `None` a popup only inside a frame.
    pub popup: Option<bool>,
    /// Give up on a popup login after this long (default 5 minutes).
    pub timeout_ms: Option<u64>,
    /// Authorize parameters for the login page, checked by the core before the login starts.
    pub params: Vec<(String, String)>,
}

impl LoginOptions {
    /// These options with one more authorize parameter.
    #[must_use]
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.to_string(), value.to_string()));
        self
    }
}

/// What observers of token changes see. Never the token itself: ask [`Auth::access_token`] for that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthState {
    /// True while tokens are held.
    pub authenticated: bool,
    /// When the access token expires (epoch ms).
    pub expires_at_ms: Option<u64>,
}

/// What a retry looks like to an observer: the attempt that failed, why, and the wait before the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryEvent {
    /// The URL (never with a token in it: tokens travel in headers and bodies only).
    pub url: String,
    /// Attempts made so far.
    pub attempt: u32,
    /// HTTP status of the failed attempt, 0 for a network failure.
    pub status: u16,
    /// Milliseconds until the next attempt.
    pub delay_ms: u64,
}

type RetryHook = Rc<RefCell<Option<Rc<dyn Fn(&RetryEvent)>>>>;
type ReportHook = Rc<RefCell<Option<Rc<dyn Fn(&Error)>>>>;
type Listeners = RefCell<BTreeMap<u32, Closure<dyn Fn(JsValue)>>>;

struct Inner {
    config: Config,
    executor: Executor,
    errors: ErrorTable,
    listeners: Listeners,
    on_retry: RetryHook,
    on_report: ReportHook,
    _bridges: [Closure<dyn Fn(JsValue)>; 2],
}

/// Signs a person in to Genesys Cloud from the browser, and keeps their access token valid.
///
/// Cheap to clone (shared state). Single-threaded, like the browser.
#[derive(Clone)]
pub struct Auth {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("client_id", &self.inner.config.client_id).finish_non_exhaustive()
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn number(object: &JsValue, key: &str) -> u64 {
    get(object, key).as_f64().filter(|n| n.is_finite() && *n >= 0.0).map_or(0, |n| n as u64)
}

fn storage_name(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Memory => "memory",
        StorageKind::Session => "session",
        StorageKind::Local => "local",
    }
}

impl Auth {
    /// Sets up sign-in. Reads tokens back from session/local storage when configured; storage content is
    /// untrusted: anything unreadable, tampered or stored for another region or client is discarded (see
    /// [`Auth::discarded_storage`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unusable client id or redirect URI.
    ///
    /// ```no_run
    /// use genesys_auth::Region;
    /// use genesys_auth_web::{Auth, Config, StorageKind};
    /// let mut config = Config::new(Region::parse("mypurecloud.ie")?, "client-id", "http://localhost:3000/");
    /// config.storage = StorageKind::Session; // survive reloads of this tab
    /// let auth = Auth::new(config)?;
    /// # Ok::<(), genesys_auth::Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Auth, Error> {
        // The options as the npm package's `GenesysAuth.create` takes them: one reading of them for both faces.
        let options = Object::new();
        set(&options, "region", &JsValue::from(config.region.name()));
        set(&options, "clientId", &JsValue::from_str(&config.client_id));
        set(&options, "redirectUri", &JsValue::from_str(&config.redirect_uri));
        set(&options, "storage", &JsValue::from_str(storage_name(config.storage)));
        if let Some(scope) = &config.scope {
            set(&options, "scopes", &JsValue::from_str(scope));
        }
        set(&options, "refreshSkewSeconds", &JsValue::from(config.refresh_skew_ms as f64 / 1000.0));
        set(&options, "reloginOnExpiry", &JsValue::from_bool(config.relogin));
        let retry = Object::new();
        let r = &config.retry;
        for (key, value) in [
            ("maxAttempts", f64::from(r.max_attempts)),
            ("baseDelayMs", r.base_delay_ms as f64),
            ("maxDelayMs", r.max_delay_ms as f64),
            ("maxRetryAfterMs", r.max_retry_after_ms as f64),
            ("maxTotalMs", r.max_total_ms as f64),
        ] {
            set(&retry, key, &JsValue::from(value));
        }
        set(&options, "retry", &retry);
        let on_retry: RetryHook = Rc::new(RefCell::new(None));
        let hook = on_retry.clone();
        let retry_bridge = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            let Some(hook) = hook.borrow().clone() else { return };
            hook(&RetryEvent {
                url: get(&event, "url").as_string().unwrap_or_default(),
                attempt: number(&event, "attempt").min(u64::from(u32::MAX)) as u32,
                status: number(&event, "status").min(999) as u16,
                delay_ms: number(&event, "delayMs"),
            });
        });
        set(&options, "onRetry", retry_bridge.as_ref());
        let errors = ErrorTable::default();
        let on_report: ReportHook = Rc::new(RefCell::new(None));
        let (hook, table) = (on_report.clone(), errors.clone());
        let report_bridge = Closure::<dyn Fn(JsValue)>::new(move |value: JsValue| {
            let error = typed_error(&table, &value);
            if let Some(hook) = hook.borrow().clone() {
                hook(&error);
            }
        });
        set(&options, "onReport", report_bridge.as_ref());

        let mut engine = Engine::new(&engine_options(&options))?;
        engine.type_errors(errors.clone());
        let engine = bind(ENGINE_FUNCTIONS.with(|f| f.clone()), crate::engine::wire::register(engine));
        let executor = Executor::new(&engine, &options);
        Ok(Auth {
            inner: Rc::new(Inner {
                config,
                executor,
                errors,
                listeners: RefCell::new(BTreeMap::new()),
                on_retry,
                on_report,
                _bridges: [retry_bridge, report_bridge],
            }),
        })
    }

    /// The typed error behind a rejection of the executor (the engine hands errors to JS as table indexes).
    fn error(&self, value: &JsValue) -> Error {
        typed_error(&self.inner.errors, value)
    }

    async fn wait(&self, promise: Promise) -> Result<JsValue, Error> {
        JsFuture::from(promise).await.map_err(|e| self.error(&e))
    }

    /// Why tokens found in storage at start were discarded, if they were.
    pub fn discarded_storage(&self) -> Option<Error> {
        let value = self.inner.executor.discarded_storage();
        (!value.is_undefined()).then(|| self.error(&value))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The current state.
    pub fn state(&self) -> AuthState {
        let state = self.inner.executor.state();
        let expires = get(&state, "expiresAt").as_f64().map(|n| n as u64);
        AuthState { authenticated: get(&state, "authenticated").is_truthy(), expires_at_ms: expires }
    }

    /// True while tokens are held (the access token may need a refresh: [`Auth::access_token`] does that).
    pub fn is_authenticated(&self) -> bool {
        self.inner.executor.is_authenticated()
    }

    /// Calls `listener` on every token change (login, refresh, logout, another tab's). Returns an id for
    /// [`Auth::unsubscribe`].
    ///
    /// ```no_run
    /// # fn f(auth: &genesys_auth_web::Auth) {
    /// let id = auth.subscribe(|state| { let _ = state.authenticated; });
    /// auth.unsubscribe(id);
    /// # }
    /// ```
    pub fn subscribe(&self, listener: impl Fn(AuthState) + 'static) -> u32 {
        let listener = Closure::<dyn Fn(JsValue)>::new(move |state: JsValue| {
            let expires = get(&state, "expiresAt").as_f64().map(|n| n as u64);
            listener(AuthState { authenticated: get(&state, "authenticated").is_truthy(), expires_at_ms: expires });
        });
        let id = self.inner.executor.on_token_change(listener.as_ref().unchecked_ref());
        self.inner.listeners.borrow_mut().insert(id, listener);
        id
    }

    /// Stops calling the listener `id`.
    pub fn unsubscribe(&self, id: u32) {
        self.inner.executor.off_token_change(id);
        self.inner.listeners.borrow_mut().remove(&id);
    }

    /// Calls `hook` with what the app should know that ends nothing: a storage write refused (the session goes on
    /// in memory), tokens another tab wrote that were unreadable or for another client, a lock that could not be
    /// taken.
    pub fn on_report(&self, hook: impl Fn(&Error) + 'static) {
        *self.inner.on_report.borrow_mut() = Some(Rc::new(hook));
    }

    /// True after the user signed out (here, in another tab, or before a reload of this tab), until
    /// [`Auth::login`] is called: nothing signs in by itself meanwhile.
    pub fn is_signed_out(&self) -> bool {
        self.inner.executor.is_signed_out()
    }

    /// Whether a guard in front of a protected view may start a login by itself now: not signed in, not signed
    /// out by the user, automatic sign-in allowed and possible (not in a frame), and no sign-in moments ago.
    /// Otherwise show a "Sign in" button.
    pub fn should_auto_login(&self) -> bool {
        self.inner.executor.should_auto_login()
    }

    /// Calls `hook` before each retry of a token or API request (for a "reconnecting…" hint).
    pub fn on_retry(&self, hook: impl Fn(&RetryEvent) + 'static) {
        *self.inner.on_retry.borrow_mut() = Some(Rc::new(hook));
    }

    /// Signs in: navigates to the Genesys login page (back at `return_to`, a same-origin path, afterwards), or
    /// inside a frame, where the login page cannot load, opens a popup (call it from a click). Resolves when the
    /// page is navigating away, or when the popup login is done.
    ///
    /// # Errors
    /// [`Error::PopupBlocked`], [`Error::PopupClosed`], [`Error::PopupTimeout`], or a storage failure that stops
    /// the navigation ([`Error::StorageUnavailable`]).
    pub async fn login(&self, return_to: Option<&str>) -> Result<(), Error> {
        let options = Object::new();
        if let Some(path) = return_to {
            set(&options, "returnTo", &JsValue::from_str(path));
        }
        self.wait(self.inner.executor.login(&options)).await.map(drop)
    }

    /// Signs in with `options`: where to come back, popup or redirect, and the authorize parameters for the login
    /// page (`org` + `provider` for the org's SSO identity provider, `login_hint`, `prompt=login`, ...).
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// use genesys_auth_web::LoginOptions;
    /// let sso = LoginOptions::default().param("org", "acme").param("provider", "okta");
    /// auth.login_with(&sso).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Auth::login`], and [`Error::InvalidConfig`] for a refused authorize parameter (the reason says which
    /// rule of [`genesys_auth::AuthorizeRequest::param`] it breaks).
    pub async fn login_with(&self, options: &LoginOptions) -> Result<(), Error> {
        let o = Object::new();
        if let Some(path) = &options.return_to {
            set(&o, "returnTo", &JsValue::from_str(path));
        }
        if let Some(popup) = options.popup {
            set(&o, "popup", &JsValue::from_bool(popup));
        }
        if let Some(ms) = options.timeout_ms {
            set(&o, "timeoutMs", &JsValue::from(ms as f64));
        }
        let params = Object::new();
        for (name, value) in &options.params {
            set(&params, name, &JsValue::from_str(value));
        }
        set(&o, "params", &params);
        self.wait(self.inner.executor.login(&o)).await.map(drop)
    }

    /// Signs in with a popup (from a click), giving up after `timeout_ms`.
    ///
    /// # Errors
    /// [`Error::PopupBlocked`], [`Error::PopupClosed`], [`Error::PopupTimeout`], or the callback's error.
    pub async fn login_with_popup(&self, timeout_ms: u64) -> Result<(), Error> {
        let options = Object::new();
        set(&options, "popup", &JsValue::TRUE);
        set(&options, "timeoutMs", &JsValue::from(timeout_ms as f64));
        self.wait(self.inner.executor.login(&options)).await.map(drop)
    }

    /// Refreshes in the background ahead of expiry (`true`), with nobody asking — for an app holding a
    /// notifications WebSocket, or whose API client never asks for a token — or only when asked (`false`, the
    /// default). Never without a refresh token: no login happens behind the user's back.
    pub fn keep_fresh(&self, on: bool) {
        self.inner.executor.keep_fresh(on);
    }

    /// True when the app runs inside a frame (an embedded Genesys Cloud client app): sign in with a popup there.
    pub fn is_framed(&self) -> bool {
        framed()
    }

    /// Completes a login when the page was loaded as the redirect URI with `code` and `state`: checks the state,
    /// exchanges the code, removes the callback from the address bar. Returns the path to go back to, or `None`
    /// when the URL carries no callback. In the login popup, hands the callback to the opener and closes.
    ///
    /// # Errors
    /// The callback's errors: [`Error::StateMismatch`], [`Error::NoPendingLogin`], [`Error::Authorization`],
    /// [`Error::OAuth`], ...
    pub async fn handle_redirect_callback(&self) -> Result<Option<String>, Error> {
        Ok(self.wait(self.inner.executor.handle_redirect_callback()).await?.as_string())
    }

    /// A valid access token: refreshed first when it expires within the skew (one refresh for any number of
    /// callers, and for all tabs with local storage).
    ///
    /// # Errors
    /// [`Error::LoginRequired`] without a session, or the refresh's error.
    pub async fn access_token(&self) -> Result<String, Error> {
        Ok(self.wait(self.inner.executor.access_token()).await?.as_string().unwrap_or_default())
    }

    /// Refreshes now (joins a refresh in flight).
    ///
    /// # Errors
    /// [`Error::LoginRequired`] without a refresh token, or the refresh's error.
    pub async fn refresh(&self) -> Result<(), Error> {
        self.wait(self.inner.executor.refresh()).await.map(drop)
    }

    /// An API request with `Authorization: Bearer`, only to the region's API origin (`/api/v2/...` or a full URL
    /// there); `init` is `fetch`'s init object (method, headers, body) or `undefined`. A 401 is answered by one
    /// refresh and one retry; 429 and 5xx are retried per the policy.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`]-style refusals for a URL elsewhere, [`Error::LoginRequired`],
    /// [`Error::Unauthorized`], [`Error::RateLimited`], [`Error::Server`], [`Error::Network`].
    pub async fn fetch(&self, path_or_url: &str, init: &JsValue) -> Result<Response, Error> {
        let value = self.wait(self.inner.executor.fetch(path_or_url, init)).await?;
        value.dyn_into::<Response>().map_err(|v| crate::error::from_js(&v))
    }

    /// `GET /api/v2/users/me` (with `expand`, e.g. `presence`) as a JS object.
    ///
    /// # Errors
    /// As [`Auth::fetch`], and [`Error::Server`] or [`Error::Malformed`] for an answer that is not a JSON success.
    pub async fn current_user(&self, expand: Option<&str>) -> Result<JsValue, Error> {
        self.wait(self.inner.executor.current_user(expand)).await
    }

    /// Signs out: revokes the token, forgets it here (and in the other tabs with local storage); with
    /// `sso_redirect`, ends the Genesys login session too and comes back there.
    ///
    /// # Errors
    /// None in practice: revocation is best effort.
    pub async fn logout(&self, sso_redirect: Option<&str>) -> Result<(), Error> {
        let options = Object::new();
        if let Some(back) = sso_redirect {
            set(&options, "sso", &JsValue::TRUE);
            set(&options, "returnTo", &JsValue::from_str(back));
        }
        self.wait(self.inner.executor.logout(&options)).await.map(drop)
    }
}

thread_local! {
    /// The engine's functions (module [`crate::engine::wire`]) as `js/executor.js` calls them, in an object of the
    /// Rust API's own: the wasm module does not export them in this build, so no other script of the page can drive
    /// an engine or read its buffer. Made once per page; the closures live as long as it.
    static ENGINE_FUNCTIONS: JsValue = engine_functions();
}

fn engine_functions() -> JsValue {
    use crate::engine::wire;
    let o = Object::new();
    set(&o, "memory", &wasm_bindgen::memory());
    macro_rules! function {
        ($name:literal, $ty:ty, $f:expr) => {{
            let closure = Closure::<$ty>::new($f);
            set(&o, $name, closure.as_ref());
            closure.forget(); // one per page, for the page's lifetime
        }};
    }
    function!("gaIo", dyn Fn(u32) -> u32, wire::io);
    function!("gaLen", dyn Fn() -> u32, wire::len);
    function!("gaWipe", dyn Fn(), wire::wipe);
    function!("gaFree", dyn Fn(u32), wire::free);
    function!("gaNames", dyn Fn(u32) -> bool, wire::names);
    function!("gaPlaces", dyn Fn(u32) -> bool, wire::places);
    function!("gaAutoLogin", dyn Fn(u32) -> bool, wire::auto_login);
    function!("gaSignedOut", dyn Fn(u32) -> bool, wire::signed_out);
    function!("gaFeed", dyn Fn(u32, u8, u32, f64, i32, i32, i32), wire::feed);
    function!("gaNext", dyn Fn(u32) -> bool, wire::next);
    function!("gaError", dyn Fn(u32) -> bool, wire::error);
    function!("gaDiscarded", dyn Fn(u32) -> bool, wire::discarded);
    function!("gaUserError", dyn Fn(u32, u16), wire::user_error);
    function!("gaWake", dyn Fn(u32) -> f64, wire::wake_at);
    function!("gaExpires", dyn Fn(u32) -> f64, wire::expires_at);
    function!("gaApiUrl", dyn Fn(u32, i32) -> bool, wire::api_url);
    function!("gaCallbackState", dyn Fn(u32, i32) -> bool, wire::callback_state);
    o.into()
}

/// The typed error behind `value`: its index in `table` (the engine hands errors to JS as table indexes, one entry
/// for each waiter it fails), else read from the JS error.
fn typed_error(table: &ErrorTable, value: &JsValue) -> Error {
    let index = value.as_f64().filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as usize);
    let typed = index.and_then(|i| table.borrow_mut().get_mut(i).and_then(Option::take));
    typed.unwrap_or_else(|| crate::error::from_js(value))
}

/// True when the page runs inside a frame.
pub fn is_framed() -> bool {
    framed()
}
