//! The Rust API: [`Auth`], for Rust front-ends (Leptos, Yew, Dioxus) and as the engine of the JS class.

use genesys_auth::concat;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use genesys_auth::{
    Callback, Client, Error, OsRng, PendingLogin, Region, RetryPolicy, TokenRequest, TokenSet, api_error, form,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Request, RequestInit, Response};

use crate::browser::{self, StorageKind, now_ms};
use crate::flight::Flight;
use crate::http::{self, RetryEvent};

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
            refresh_skew_ms: 60_000,
            retry: RetryPolicy::default(),
            relogin: true,
        }
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

type Listener = Rc<dyn Fn(AuthState)>;
type MessageHandler = Closure<dyn FnMut(web_sys::MessageEvent)>;
type RetryHook = Rc<dyn Fn(&RetryEvent)>;

struct Inner {
    client: Client,
    config: Config,
    tokens: RefCell<Option<TokenSet>>,
    refreshing: RefCell<Option<Flight<Result<(), Error>>>>,
    listeners: RefCell<Vec<(u32, Listener)>>,
    next_listener: Cell<u32>,
    on_retry: RefCell<Option<RetryHook>>,
    /// Why stored tokens were thrown away at start, if they were (tampered or corrupt storage).
    discarded: RefCell<Option<Error>>,
    /// With shared (local) storage: the channel on which tabs announce new tokens and logouts.
    channel: Option<web_sys::BroadcastChannel>,
    on_message: RefCell<Option<MessageHandler>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(c) = &self.channel {
            c.set_onmessage(None);
            c.close();
        }
    }
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

const PENDING: &str = "pending";
const TOKENS: &str = "tokens";
const RELOGIN: &str = "relogin";
const ANNOUNCE_TOKENS: &str = "tokens";
const ANNOUNCE_LOGOUT: &str = "logout";

impl Auth {
    /// Sets up sign-in. Reads tokens back from session/local storage when configured; storage content is
    /// untrusted: anything unreadable or tampered is discarded (see [`Auth::discarded_storage`]).
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
        let client = Client::new(config.region.clone(), &config.client_id, &config.redirect_uri)?;
        let channel = (config.storage == StorageKind::Local)
            .then(|| browser::channel(&concat(&["genesys-auth:", config.client_id.as_str()])))
            .flatten();
        let auth = Auth {
            inner: Rc::new(Inner {
                client,
                config,
                tokens: RefCell::new(None),
                refreshing: RefCell::new(None),
                listeners: RefCell::new(Vec::new()),
                next_listener: Cell::new(1),
                on_retry: RefCell::new(None),
                discarded: RefCell::new(None),
                channel,
                on_message: RefCell::new(None),
            }),
        };
        auth.load_tokens();
        auth.listen_to_other_tabs();
        Ok(auth)
    }

    fn key(&self, what: &str) -> String {
        concat(&["genesys-auth:", self.inner.config.client_id.as_str(), ":", what])
    }

    fn load_tokens(&self) {
        let kind = self.inner.config.storage;
        let Some(text) = browser::storage_get(kind, &self.key(TOKENS)) else {
            return;
        };
        match TokenSet::from_storage_for(&text, &self.inner.client) {
            Ok(tokens) if !tokens.needs_refresh(now_ms(), 0) || tokens.refresh.is_some() => {
                *self.inner.tokens.borrow_mut() = Some(tokens);
            }
            Ok(_) => browser::storage_remove(kind, &self.key(TOKENS)),
            Err(e) => {
                browser::storage_remove(kind, &self.key(TOKENS));
                *self.inner.discarded.borrow_mut() = Some(e);
            }
        }
    }

    /// Why tokens found in storage at start were discarded, if they were.
    pub fn discarded_storage(&self) -> Option<Error> {
        self.inner.discarded.borrow().clone()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Other tabs' announcements: new tokens are read from the shared storage (never sent on the channel);
    /// a logout ends this tab's session too.
    fn listen_to_other_tabs(&self) {
        let Some(channel) = &self.inner.channel else { return };
        let weak = Rc::downgrade(&self.inner);
        let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(inner) = weak.upgrade() else { return };
            let auth = Auth { inner };
            match event.data().as_string().as_deref() {
                Some(ANNOUNCE_TOKENS) => {
                    *auth.inner.tokens.borrow_mut() = None;
                    auth.load_tokens();
                    auth.notify();
                }
                Some(ANNOUNCE_LOGOUT) => {
                    *auth.inner.tokens.borrow_mut() = None;
                    auth.notify();
                }
                _ => {}
            }
        });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        *self.inner.on_message.borrow_mut() = Some(handler);
    }

    fn announce(&self, message: &str) {
        if let Some(c) = &self.inner.channel {
            let _ = c.post_message(&JsValue::from_str(message));
        }
    }

    fn notify(&self) {
        let state = self.state();
        let listeners: Vec<Listener> = self.inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(state);
        }
    }

    /// Keeps `tokens` (memory, and storage when configured), tells listeners and, with shared storage, the
    /// other tabs.
    fn set_tokens(&self, tokens: Option<TokenSet>) {
        let kind = self.inner.config.storage;
        match &tokens {
            Some(t) => {
                // A storage refusal must not lose the login: memory still holds the tokens.
                let _ = browser::storage_set(kind, &self.key(TOKENS), &t.to_storage_for(&self.inner.client));
            }
            None => browser::storage_remove(kind, &self.key(TOKENS)),
        }
        self.announce(if tokens.is_some() { ANNOUNCE_TOKENS } else { ANNOUNCE_LOGOUT });
        let state =
            AuthState { authenticated: tokens.is_some(), expires_at_ms: tokens.as_ref().map(|t| t.expires_at_ms) };
        *self.inner.tokens.borrow_mut() = tokens;
        let listeners: Vec<Listener> = self.inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(state);
        }
    }

    /// The current state.
    pub fn state(&self) -> AuthState {
        let tokens = self.inner.tokens.borrow();
        AuthState { authenticated: tokens.is_some(), expires_at_ms: tokens.as_ref().map(|t| t.expires_at_ms) }
    }

    /// True while tokens are held (the access token may need a refresh: [`Auth::access_token`] does that).
    pub fn is_authenticated(&self) -> bool {
        self.inner.tokens.borrow().is_some()
    }

    /// Calls `listener` on every token change (login, refresh, logout). Returns an id for [`Auth::unsubscribe`].
    ///
    /// ```no_run
    /// # fn f(auth: &genesys_auth_web::Auth) {
    /// let id = auth.subscribe(|state| { let _ = state.authenticated; });
    /// auth.unsubscribe(id);
    /// # }
    /// ```
    pub fn subscribe(&self, listener: impl Fn(AuthState) + 'static) -> u32 {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id.wrapping_add(1));
        self.inner.listeners.borrow_mut().push((id, Rc::new(listener)));
        id
    }

    /// Stops calling a listener.
    pub fn unsubscribe(&self, id: u32) {
        self.inner.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Calls `hook` before each retry (429, 5xx, network), e.g. to log or show "reconnecting".
    pub fn on_retry(&self, hook: impl Fn(&RetryEvent) + 'static) {
        *self.inner.on_retry.borrow_mut() = Some(Rc::new(hook));
    }

    fn retry_hook(&self) -> impl Fn(&RetryEvent) + '_ {
        move |e: &RetryEvent| {
            let hook = self.inner.on_retry.borrow().clone();
            if let Some(h) = hook {
                h(e);
            }
        }
    }

    /// Starts a login: parks the pending login (verifier, state, return path) in this tab's sessionStorage and
    /// sends the browser to the Genesys login page. `return_to` is kept only if it is a same-origin path.
    ///
    /// # Errors
    /// [`Error::Random`] without randomness; [`Error::InvalidConfig`] when sessionStorage is refused.
    ///
    /// ```no_run
    /// # fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// auth.login(Some("/inbox"))?; // the page navigates to the Genesys login page
    /// # Ok(()) }
    /// ```
    pub fn login(&self, return_to: Option<&str>) -> Result<(), Error> {
        let url = self.prepare_login(return_to)?;
        browser::navigate(&url)
    }

    /// Signs in through a popup (for apps inside an iframe): opens it at once — call this from a click handler —
    /// then waits for the callback, exchanges the code in this window and closes the popup. The redirect URI's
    /// page must run this library's [`Auth::handle_redirect_callback`] (it hands the callback to this window).
    ///
    /// # Errors
    /// [`Error::PopupBlocked`] (not called from a click), [`Error::PopupClosed`], [`Error::PopupTimeout`],
    /// and the login's own failures.
    ///
    /// ```no_run
    /// # async fn on_click(auth: genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// let signed_in = auth.login_with_popup(120_000); // the popup opens here, inside the click
    /// signed_in.await?;
    /// # Ok(()) }
    /// ```
    pub fn login_with_popup(&self, timeout_ms: u64) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        // Opened synchronously, inside the user gesture; the rest happens in the returned future.
        let opened =
            self.authorize_request(None).and_then(|(url, pending)| crate::popup::PopupLogin::open(&url, pending));
        let this = self.clone();
        async move {
            let (pending, url) = opened?.finish(timeout_ms).await?;
            let request = pending.complete(&url, now_ms())?;
            let tokens = http::token_request(&request, &this.inner.config.retry, &this.retry_hook()).await?;
            this.set_tokens(Some(tokens));
            Ok(())
        }
    }

    /// True when the app runs inside a frame; [`Auth::login_with_popup`] is then the way to sign in.
    pub fn is_framed(&self) -> bool {
        crate::popup::is_framed()
    }

    fn authorize_request(&self, return_to: Option<&str>) -> Result<(String, PendingLogin), Error> {
        let mut request = self.inner.client.authorize();
        if let Some(scope) = &self.inner.config.scope {
            request = request.scope(scope);
        }
        if let Some(path) = return_to {
            request = request.return_to(path);
        }
        request.build(&mut OsRng, now_ms())
    }

    /// Like [`Auth::login`] without navigating: parks the pending login and returns the authorize URL.
    ///
    /// # Errors
    /// As [`Auth::login`].
    pub fn prepare_login(&self, return_to: Option<&str>) -> Result<String, Error> {
        let (url, pending) = self.authorize_request(return_to)?;
        // The pending login must survive the redirect, so it goes to sessionStorage whatever the token storage.
        browser::storage_set(StorageKind::Session, &self.key(PENDING), &pending.to_storage())?;
        Ok(url)
    }

    /// Finishes a login when the current URL is the callback. Returns `Ok(None)` when the URL holds no callback,
    /// else the same-origin return path (or `/`-relative current path) after exchanging the code.
    ///
    /// The pending login is used once, whatever happens; `code` and `state` are removed from the address bar.
    ///
    /// # Errors
    /// Every failure of the callback and the token request, typed.
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// if let Some(path) = auth.handle_redirect_callback().await? {
    ///     // signed in; the address bar already shows `path`
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn handle_redirect_callback(&self) -> Result<Option<String>, Error> {
        let href = browser::href()?;
        if !Callback::is_callback(&href) || crate::popup::hand_to_opener(&href) {
            return Ok(None);
        }
        browser::replace_url(&genesys_auth::without_callback(&href))?;
        let stored = browser::storage_get(StorageKind::Session, &self.key(PENDING));
        browser::storage_remove(StorageKind::Session, &self.key(PENDING));
        let pending = PendingLogin::from_storage(&stored.ok_or(Error::NoPendingLogin)?)?;
        pending.check_client(&self.inner.client)?;
        let return_to = pending.return_to().map(str::to_string);
        let request = pending.complete(&href, now_ms())?;
        let tokens = http::token_request(&request, &self.inner.config.retry, &self.retry_hook()).await?;
        self.set_tokens(Some(tokens));
        if let Some(path) = &return_to {
            browser::replace_url(path)?;
        }
        Ok(Some(return_to.unwrap_or_else(|| "/".to_string())))
    }

    /// A valid access token, refreshed first when it expires within the skew. Concurrent callers share one
    /// refresh (single flight).
    ///
    /// # Errors
    /// [`Error::LoginRequired`] when there is no session or it cannot be refreshed; network and server errors.
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// let token = auth.access_token().await?; // e.g. for the official SDK's setAccessToken
    /// # Ok(()) }
    /// ```
    pub async fn access_token(&self) -> Result<String, Error> {
        let needs = match &*self.inner.tokens.borrow() {
            None => return Err(Error::LoginRequired),
            Some(t) => t.needs_refresh(now_ms(), self.inner.config.refresh_skew_ms),
        };
        if needs && let Err(e) = self.refresh().await {
            return Err(self.relogin_or(e).await);
        }
        self.inner.tokens.borrow().as_ref().map(|t| t.access.secret().to_string()).ok_or(Error::LoginRequired)
    }

    /// Refreshes now (single flight: joins a refresh already running).
    ///
    /// # Errors
    /// [`Error::LoginRequired`] when there is no refresh token or the server refused it (the session is cleared
    /// then); other errors leave the session as it was.
    pub async fn refresh(&self) -> Result<(), Error> {
        let existing = self.inner.refreshing.borrow().clone().filter(|f| !f.is_done());
        let flight = match existing {
            Some(f) => f,
            None => {
                let this = self.clone();
                // The token this refresh replaces, taken now, in the same task as the caller's decision to refresh:
                // another tab's new token may arrive before the flight starts, and must not be refreshed again.
                let seen = self.inner.tokens.borrow().as_ref().map(|t| t.access.clone());
                let f = Flight::start(async move { this.refresh_once(seen).await });
                *self.inner.refreshing.borrow_mut() = Some(f.clone());
                f
            }
        };
        flight.wait().await
    }

    async fn refresh_once(&self, seen: Option<genesys_auth::AccessToken>) -> Result<(), Error> {
        if self.inner.config.storage != StorageKind::Local {
            return self.refresh_now().await;
        }
        // Tabs sharing local storage share one rotating refresh token: one tab refreshes at a time, and a tab
        // that waited for the lock first looks whether another tab already did the work.
        let this = self.clone();
        browser::with_lock(&self.key("refresh"), async move {
            *this.inner.tokens.borrow_mut() = None;
            this.load_tokens();
            let fresh = this
                .inner
                .tokens
                .borrow()
                .as_ref()
                .is_some_and(|t| Some(&t.access) != seen.as_ref() && !t.needs_refresh(now_ms(), 0));
            if fresh {
                this.notify();
                return Ok(());
            }
            this.refresh_now().await
        })
        .await
    }

    async fn refresh_now(&self) -> Result<(), Error> {
        let request = {
            let tokens = self.inner.tokens.borrow();
            let Some(refresh) = tokens.as_ref().and_then(|t| t.refresh.as_ref()) else {
                drop(tokens);
                self.set_tokens(None);
                return Err(Error::LoginRequired);
            };
            TokenRequest::refresh(&self.inner.client, refresh)
        };
        match http::token_request(&request, &self.inner.config.retry, &self.retry_hook()).await {
            Ok(tokens) => {
                self.set_tokens(Some(tokens));
                Ok(())
            }
            Err(e) if e.refresh_refused() => {
                self.set_tokens(None);
                Err(Error::LoginRequired)
            }
            Err(e) => Err(e),
        }
    }

    /// When `err` means the session is over and automatic sign-in is on: signs in again by redirect to the
    /// current page, unless the last automatic sign-in was less than a minute ago ([`Error::ReloginLoop`]).
    /// Otherwise returns `err`.
    async fn relogin_or(&self, err: Error) -> Error {
        let over = matches!(err, Error::LoginRequired | Error::Unauthorized { .. });
        // In a frame the login page cannot load (and a popup needs a click): the app must call login() itself.
        if !over || !self.inner.config.relogin || self.is_framed() {
            return err;
        }
        let last = browser::storage_get(StorageKind::Session, &self.key(RELOGIN));
        if !genesys_auth::relogin_allowed(last.as_deref(), now_ms()) {
            return Error::ReloginLoop;
        }
        if browser::storage_set(StorageKind::Session, &self.key(RELOGIN), &genesys_auth::decimal(now_ms())).is_err() {
            return err;
        }
        let here = browser::href().ok().and_then(|h| genesys_auth::return_path(&h));
        if let Err(e) = self.login(here.as_deref()) {
            return e;
        }
        // The page is navigating away; if it is still here after a while, something stopped the navigation.
        browser::sleep(10_000).await;
        err
    }

    /// An authorized request to the API: Bearer header, one refresh-and-retry on 401, retries on 429/5xx.
    /// `init` is a `RequestInit` (method, headers, body) or `undefined`.
    ///
    /// Answers other than 401, 429 and 5xx come back as the `Response` (the app reads 404s and the like).
    ///
    /// # Errors
    /// [`Error::LoginRequired`], [`Error::Unauthorized`] (a second 401), [`Error::RateLimited`] and
    /// [`Error::Server`] once retries are exhausted, network errors.
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// let response = auth.fetch("/api/v2/users/me?expand=presence", &wasm_bindgen::JsValue::UNDEFINED).await?;
    /// assert!(response.ok());
    /// # Ok(()) }
    /// ```
    pub async fn fetch(&self, path_or_url: &str, init: &JsValue) -> Result<Response, Error> {
        let url = self.inner.config.region.api_url(path_or_url)?;
        let mut refreshed = false;
        loop {
            let token = self.access_token().await?;
            let make = || -> Result<Request, Error> {
                // A shallow copy, so the caller's object is left as it was; a redirect (which would carry the token
                // to wherever it points) fails unless the app's init asks for another redirect mode.
                let defaults = RequestInit::new();
                defaults.set_redirect(web_sys::RequestRedirect::Error);
                let init: RequestInit = if init.is_undefined() || init.is_null() {
                    defaults
                } else {
                    js_sys::Object::assign(&defaults, init.unchecked_ref()).unchecked_into()
                };
                http::bearer_request(&url, &init, &token)
            };
            let response =
                http::send_with_retry(&url, &make, &self.inner.config.retry, false, &self.retry_hook()).await?;
            let status = response.status();
            if status == 401 && !refreshed && self.inner.tokens.borrow().as_ref().is_some_and(|t| t.refresh.is_some()) {
                refreshed = true;
                if let Err(e) = self.refresh().await {
                    return Err(self.relogin_or(e).await);
                }
                continue;
            }
            if status == 401 || status == 429 || status >= 500 {
                let retry_after = response.headers().get("retry-after").ok().flatten();
                let body = http::read_body(&response).await.unwrap_or_default();
                let err = api_error(status, retry_after.as_deref(), &body, now_ms());
                if status == 401 {
                    self.set_tokens(None);
                    return Err(self.relogin_or(err).await);
                }
                return Err(err);
            }
            return Ok(response);
        }
    }

    /// `GET /api/v2/users/me` (with `expand`, e.g. `"presence,routingStatus"`), parsed by the browser.
    ///
    /// # Errors
    /// As [`Auth::fetch`], and [`Error::Malformed`] when the answer is not JSON.
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// let me = auth.current_user(Some("presence,routingStatus")).await?;
    /// let name = js_sys::Reflect::get(&me, &"name".into()).ok().and_then(|n| n.as_string());
    /// # Ok(()) }
    /// ```
    pub async fn current_user(&self, expand: Option<&str>) -> Result<JsValue, Error> {
        let path = match expand {
            Some(e) if !e.is_empty() => concat(&["/api/v2/users/me?expand=", &form::encode(e)]),
            _ => "/api/v2/users/me".to_string(),
        };
        let response = self.fetch(&path, &JsValue::UNDEFINED).await?;
        let status = response.status();
        if !(200..300).contains(&status) {
            return Err(Error::Server { status });
        }
        let parsed = response.json().map(wasm_bindgen_futures::JsFuture::from);
        let parsed = match parsed {
            Ok(p) => p.await,
            Err(e) => Err(e),
        };
        parsed.map_err(|_| Error::Malformed { status, reason: "the /users/me answer is not JSON", body: String::new() })
    }

    /// Signs out: revokes the token (`DELETE /api/v2/tokens/me`), clears memory and storage, and with
    /// `sso_redirect` also ends the Genesys login session by sending the browser to `login.<env>/logout`.
    ///
    /// # Errors
    /// Only navigation failures; a failed revocation still clears the local session.
    ///
    /// ```no_run
    /// # async fn f(auth: &genesys_auth_web::Auth) -> Result<(), genesys_auth::Error> {
    /// auth.logout(None).await?;                              // this app only
    /// auth.logout(Some("http://localhost:3000/")).await?;    // and the Genesys login session
    /// # Ok(()) }
    /// ```
    pub async fn logout(&self, sso_redirect: Option<&str>) -> Result<(), Error> {
        let token = self.inner.tokens.borrow().as_ref().map(|t| t.access.secret().to_string());
        if let (Some(token), Ok(url)) = (token, self.inner.config.region.api_url("/api/v2/tokens/me")) {
            let make = || -> Result<Request, Error> {
                let init = RequestInit::new();
                init.set_method("DELETE");
                http::bearer_request(&url, &init, &token)
            };
            // Best effort: the local session ends whatever the server says.
            let _ = http::send_with_retry(&url, &make, &RetryPolicy::none(), false, &|_| {}).await;
        }
        self.set_tokens(None);
        browser::storage_remove(StorageKind::Session, &self.key(PENDING));
        if let Some(back) = sso_redirect {
            browser::navigate(&self.inner.client.logout_url(Some(back)))?;
        }
        Ok(())
    }
}
