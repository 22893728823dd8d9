//! The session engine of the browser: the core's session machine ([`genesys_auth::session::Session`]) behind a
//! small synchronous interface, for the one browser executor (`js/executor.js`: the npm package's class
//! `GenesysAuth`, and under [`crate::Auth`]), which does fetch, timers, storage, Web Locks, BroadcastChannel and
//! popups and decides nothing.
//!
//! Events go in through [`Engine::feed`] (the time is read here); actions come out one at a time from [`Engine::next`], as
//! lines of one string: the action's name, then its fields. None of the fields can hold a line break (URLs, form
//! bodies and storage texts are escaped, tokens are printable ASCII, return paths have no control characters). An
//! action that carries an error (`fail`, `report`) leaves it in [`Engine::error`].
//!
//! | action | fields |
//! |---|---|
//! | `send` | id, `token`, URL, form body, header, value, header, value |
//! | `send` | id, `api`, URL, access token, waiter |
//! | `send` | id, `revoke`, URL, access token |
//! | `body` | id (answer again with the body) |
//! | `lock`, `unlock`, `close` (the popup), `changed` | — |
//! | `store` | slot (`tokens`, `pending`, `relogin`), text |
//! | `remove` | slot |
//! | `announce` | `tokens` or `logout` |
//! | `navigate`, `address` (replace the address bar) | URL |
//! | `popup` | URL, state |
//! | `ok` | waiters (comma-separated), then `token` + token, `in` + return path, `response` + id, or nothing |
//! | `fail` | waiters; the error in [`Engine::error`] |
//! | `retry` | URL, attempt, status, delay in ms |
//! | `report` | the error in [`Engine::error`] |
//!
//! JS reaches the engines through the plain functions of module [`wire`] (numbers in, numbers out, texts through
//! one buffer), called on the module's exports directly: no generated glue per method, no JS objects made in wasm.

use std::cell::RefCell;

use genesys_auth::session::{
    Action, Announcement, Config, LoginOptions, Outcome, Persistence, Reply, Request, Session, Slot,
};
use genesys_auth::{Callback, Client, Error, Region, TokenRequest, decimal};

use crate::browser::{BrowserRng, StorageKind};
use crate::options::{MISSING_CLIENT_ID, MISSING_REGION, retry_policy, whole};

/// Now, in epoch milliseconds.
fn now() -> u64 {
    whole(Some(js_sys::Date::now())).unwrap_or(0)
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Tokens => "tokens",
        Slot::Pending => "pending",
        Slot::Relogin => "relogin",
    }
}

fn slot_of(name: &str) -> Slot {
    match name {
        "tokens" => Slot::Tokens,
        "pending" => Slot::Pending,
        _ => Slot::Relogin,
    }
}

/// The session of one OAuth client in this tab.
pub struct Engine {
    session: Session,
    error: Option<Error>,
    /// With the Rust API: errors are handed to JS as their index in its table instead (so that Rust gets them back
    /// typed). A function, so that the npm build carries none of it.
    typed: Option<Exporter>,
    /// The action being written by [`Engine::next`] (one buffer, reused).
    out: String,
}

/// How the Rust API has errors handed to JS (see [`Engine::type_errors`]): the error's index in the table.
type Exporter = Box<dyn Fn(&Error) -> usize>;

/// The events of [`Engine::feed`], by number.
mod event {
    pub const TIMEOUT: u8 = 0;
    pub const LOCATION: u8 = 1;
    pub const WANT_TOKEN: u8 = 2;
    pub const WANT_REFRESH: u8 = 3;
    pub const FETCH: u8 = 4;
    pub const LOGIN: u8 = 5;
    pub const LOGIN_POPUP: u8 = 6;
    pub const LOGIN_REDIRECT: u8 = 7;
    pub const CALLBACK: u8 = 8;
    pub const POPUP_CALLBACK: u8 = 9;
    pub const POPUP_CLOSED: u8 = 10;
    pub const POPUP_BLOCKED: u8 = 11;
    pub const LOCK_GRANTED: u8 = 12;
    pub const STORED_CHANGED: u8 = 13;
    pub const STORE_FAILED: u8 = 14;
    pub const ANSWER: u8 = 15;
    pub const NETWORK: u8 = 16;
    pub const LOGOUT: u8 = 17;
    pub const LOGOUT_SSO: u8 = 18;
    /// `n`: 1 turns the background refresh on, 0 off.
    pub const KEEP_FRESH: u8 = 19;
    /// Another tab announced new tokens (`a`: what storage holds now) or a logout (no `a`).
    pub const ANNOUNCED: u8 = 20;
}

/// Errors on their way from the engine through JS back to Rust (the Rust API): JS carries their index.
pub(crate) type ErrorTable = std::rc::Rc<RefCell<Vec<Option<Error>>>>;

impl Engine {
    /// Checks the options of `GenesysAuth.create` and starts the session from what storage holds. `texts`, as
    /// `engineArgs` in `js/executor.js` lists them: region, clientId, redirectUri, storage, scope, the stored tokens,
    /// the time of the last automatic sign-in (each `None` where not given). `numbers`: retry maxAttempts, baseDelayMs, maxDelayMs, maxRetryAfterMs, maxTotalMs, the
    /// refresh skew in ms (NaN where not given), then reloginOnExpiry, framed, popup possible (BroadcastChannel), each
    /// 1 or 0.
    ///
    /// # Errors
    /// `invalid_config` or `unknown_region`.
    pub fn new(texts: &[Option<String>], numbers: &[f64]) -> Result<Engine, Error> {
        let text = |i: usize| texts.get(i).and_then(Option::as_deref);
        let number = |i: usize| whole(numbers.get(i).copied());
        let region = Region::from_config(text(0).ok_or(MISSING_REGION)?)?;
        let client = Client::new(region, text(1).ok_or(MISSING_CLIENT_ID)?, text(2).unwrap_or_default())?;
        let storage = text(3).map_or(Ok(StorageKind::Memory), StorageKind::parse)?;
        let flag = |i: usize| number(i).is_some_and(|f| f != 0);
        // Built in one piece, not `Config::new` and then field by field: each copy of this large struct is written
        // out word by word in the wasm (−228 B gzipped).
        let config = Config {
            client,
            retry: retry_policy([number(0), number(1), number(2), number(3), number(4)]),
            refresh_skew_ms: number(5).unwrap_or(60_000),
            persistence: match storage {
                StorageKind::Memory => Persistence::Memory,
                StorageKind::Session => Persistence::Private,
                StorageKind::Local => Persistence::Shared,
            },
            relogin: flag(6),
            framed: flag(7),
            popup_capable: flag(8),
            scope: text(4).map(str::to_string), // a blank one is dropped by the core (`AuthorizeRequest::scope`)
            keep_fresh: false,
        };
        let session = Session::new(config, text(5), text(6), now(), Box::new(BrowserRng));
        Ok(Engine { session, error: None, typed: None, out: String::new() })
    }

    /// From now on errors reach JS as indexes into `table` (see [`ErrorTable`]).
    pub(crate) fn type_errors(&mut self, table: ErrorTable) {
        self.typed = Some(Box::new(move |err: &Error| {
            let mut table = table.borrow_mut();
            if table.iter().all(Option::is_none) {
                table.clear();
            }
            table.push(Some(err.clone()));
            table.len() - 1
        }));
    }

    /// Appends the fields of an action, each on its own line.
    fn put(&mut self, fields: &[&str]) {
        for f in fields {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.out.push_str(f);
        }
    }

    fn put_number(&mut self, n: u64) {
        self.put(&[&decimal(n)]);
    }

    /// One event (the numbers of module `event`): `n` is the caller (waiter) or the request id, `x` the HTTP status
    /// or the popup login's timeout, `a` and `b` the texts of the event (for a login: the return path and the
    /// form-encoded authorize parameters), `body` an answer's body. Then drain [`Engine::next`].
    pub fn feed(&mut self, kind: u8, n: u32, x: Option<f64>, a: Option<&str>, b: Option<&str>, body: Option<&[u8]>) {
        let s = &mut self.session;
        let (w, t) = (u64::from(n), now());
        match kind {
            event::TIMEOUT => s.handle_timeout(t),
            event::LOCATION => s.set_location(a.unwrap_or_default()),
            event::WANT_TOKEN => s.want_token(w, t),
            event::WANT_REFRESH => s.want_refresh(w, t),
            event::FETCH => s.fetch(w, a.unwrap_or_default(), t),
            event::LOGIN | event::LOGIN_POPUP | event::LOGIN_REDIRECT => {
                let popup = match kind {
                    event::LOGIN_POPUP => Some(true),
                    event::LOGIN_REDIRECT => Some(false),
                    _ => None,
                };
                // `b`: the authorize parameters, form-encoded (checked by the core).
                let params = b.map(|q| genesys_auth::form::parse(q).collect()).unwrap_or_default();
                let options = LoginOptions {
                    return_to: a.map(str::to_string),
                    popup,
                    timeout_ms: whole(x),
                    params,
                    redirect_uri: None,
                };
                s.login(w, &options, t);
            }
            event::CALLBACK => s.callback(w, a.unwrap_or_default(), b, t),
            event::POPUP_CALLBACK => drop(s.popup_callback(a.unwrap_or_default(), t)),
            event::POPUP_CLOSED => s.popup_closed(),
            event::POPUP_BLOCKED => s.popup_blocked(),
            event::LOCK_GRANTED => s.lock_granted(a, t),
            event::STORED_CHANGED => s.stored_changed(a, t),
            event::STORE_FAILED => s.store_failed(slot_of(a.unwrap_or_default()), b.unwrap_or_default()),
            event::ANSWER => {
                let status = whole(x).map_or(0, |v| v.min(999) as u16);
                s.answer(w, Reply::Http { status, retry_after: b, body }, t);
            }
            event::NETWORK => s.answer(w, Reply::Network { detail: a.unwrap_or_default() }, t),
            event::LOGOUT => s.logout(w, None, t),
            event::LOGOUT_SSO => {
                let back = a.map_or_else(|| s.config().client.redirect_uri().to_string(), str::to_string);
                s.logout(w, Some(&back), t);
            }
            event::KEEP_FRESH => s.set_keep_fresh(n != 0),
            event::ANNOUNCED => s.tokens_announced(a, t),
            _ => {}
        }
    }

    /// The next action, or `None` when there is none (see the module documentation).
    #[allow(clippy::should_implement_trait)] // the action borrows the engine: not an iterator
    pub fn next(&mut self) -> Option<&str> {
        let action = self.session.poll_action()?;
        self.out.clear();
        match action {
            Action::Send(Request::Token { id, request }) => {
                let [(a, b), (c, d)] = TokenRequest::HEADERS;
                self.put(&["send"]);
                self.put_number(id);
                self.put(&["token", request.url(), request.body(), a, b, c, d]);
            }
            Action::Send(Request::Api { id, waiter, url, token }) => {
                self.put(&["send"]);
                self.put_number(id);
                self.put(&["api", &url, token.secret()]);
                self.put_number(waiter);
            }
            Action::Send(Request::Revoke { id, url, token }) => {
                self.put(&["send"]);
                self.put_number(id);
                self.put(&["revoke", &url, token.secret()]);
            }
            Action::ReadBody { request } => {
                self.put(&["body"]);
                self.put_number(request);
            }
            Action::Lock => self.put(&["lock"]),
            Action::Unlock => self.put(&["unlock"]),
            Action::Store { slot, text } => self.put(&["store", slot_name(slot), text.secret()]),
            Action::Remove { slot } => self.put(&["remove", slot_name(slot)]),
            Action::Announce(a) => {
                self.put(&["announce", if a == Announcement::Tokens { "tokens" } else { "logout" }]);
            }
            Action::Navigate { url } => self.put(&["navigate", &url]),
            Action::OpenPopup { url, state } => self.put(&["popup", &url, &state]),
            Action::ClosePopup => self.put(&["close"]),
            Action::ReplaceAddress { url } => self.put(&["address", &url]),
            Action::Resolve { waiters, outcome } => {
                self.put(&[if outcome.is_ok() { "ok" } else { "fail" }]);
                self.out.push('\n');
                for (i, w) in waiters.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.out.push_str(&decimal(*w));
                }
                match outcome {
                    Ok(Outcome::Token(t)) => self.put(&["token", t.secret()]),
                    Ok(Outcome::SignedIn { return_to }) => self.put(&["in", return_to.as_deref().unwrap_or("/")]),
                    Ok(Outcome::Response { request }) => {
                        self.put(&["response"]);
                        self.put_number(request);
                    }
                    Ok(_) => {}
                    Err(e) => self.error = Some(e),
                }
            }
            Action::Retrying(r) => {
                self.put(&["retry", &r.url]);
                self.put_number(u64::from(r.attempt));
                self.put_number(u64::from(r.status));
                self.put_number(r.delay_ms);
            }
            Action::Report(e) => {
                self.error = Some(e);
                self.put(&["report"]);
            }
            _ => self.put(&["changed"]),
        }
        Some(&self.out)
    }

    /// The error of the last `fail` or `report` action.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// When `feed(TIMEOUT)` is due next (epoch ms), if ever.
    pub fn wake_at(&self) -> Option<u64> {
        self.session.poll_timeout()
    }

    /// `path_or_url` as a URL on the region's API origin, or `None` when the token must not go there (the one host
    /// rule of the core, for apps whose own HTTP client adds the token, such as an Angular interceptor).
    pub fn api_url(&self, path_or_url: &str) -> Option<String> {
        self.session.config().client.region().api_url(path_or_url).ok()
    }

    /// When the access token expires (epoch ms), while signed in (tokens are held).
    pub fn expires_at(&self) -> Option<u64> {
        self.session.expires_at_ms()
    }

    /// Why tokens found in storage at start were discarded, if they were.
    pub fn discarded(&self) -> Option<&Error> {
        self.session.discarded()
    }

    /// The `state` of the OAuth callback in `href`, if it is one with a state (it names the popup hand-off channel).
    pub fn callback_state(&self, href: &str) -> Option<String> {
        if !Callback::is_callback(href) {
            return None;
        }
        Callback::parse(href).ok()?.state().map(|s| s.secret().to_string())
    }

    /// The error of `currentUser` for an answer with `status`: `server_error` when it is not a success, else
    /// `malformed_response` (the answer is not JSON).
    pub fn user_error(status: u16) -> Error {
        if (200..300).contains(&status) {
            Error::Malformed { status, reason: "the /users/me answer is not JSON", body: String::new() }
        } else {
            Error::Server { status }
        }
    }
}

/// The region Genesys Cloud gives an embedded app in `query` (`gcHostOrigin`, `pcEnvironment`, `gcTargetEnv`),
/// as a name; `allow`: exact origins accepted besides the known regions, form-encoded (`a=<origin>&a=<origin>`).
/// With no parameter, `remembered` (from an earlier page of the round trip) if it still names an acceptable region.
///
/// # Errors
/// `unknown_region` for a parameter naming anything else.
#[cfg(feature = "engine")]
pub fn region_from_host_params(query: &str, allow: &str, remembered: Option<String>) -> Result<Option<String>, Error> {
    // Form-encoded (`a=<origin>&a=<origin>`): read by the reader the engine has anyway, not a string search of its own.
    let pairs: Vec<(String, String)> = genesys_auth::form::parse(allow).collect();
    let mut allow: Vec<&str> = Vec::new();
    for (_, origin) in &pairs {
        if !origin.is_empty() {
            allow.push(origin);
        }
    }
    match Region::from_host_params(query, &allow)? {
        Some(region) => Ok(Some(region.name())),
        None => Ok(remembered.and_then(|n| Region::from_host_value(&n, &allow).ok()).map(|r| r.name())),
    }
}

/// The engines as JS reaches them (`class Engine` of `js/executor.js`, for both faces): plain functions of numbers,
/// called on the wasm module's exports directly. Texts cross through one buffer: JS asks [`io`](wire::io) for room, writes
/// the texts one after another and passes their lengths (negative: absent); a function that answers a text leaves
/// it in the buffer ([`len`](wire::len) bytes, at [`io`](wire::io)`(len)`) and returns whether it did. An error crosses as the
/// form-encoded fields of a `GenesysAuthError` (`code`, `message`, `oauthError`, `status`, `retryAfterMs`,
/// `apiCode`), or with the Rust API as its index in the Rust table.
pub mod wire {
    use wasm_bindgen::prelude::*;

    use super::*;

    thread_local! {
        static ENGINES: RefCell<Vec<Option<Engine>>> = const { RefCell::new(Vec::new()) };
        static IO: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// Makes room for `len` bytes in the buffer (keeping what it holds up to there) and returns where it starts.
    #[wasm_bindgen(js_name = gaIo)]
    pub fn io(len: u32) -> u32 {
        IO.with_borrow_mut(|io| {
            io.resize(len as usize, 0);
            io.as_ptr() as u32
        })
    }

    /// How many bytes of text the buffer holds.
    #[wasm_bindgen(js_name = gaLen)]
    pub fn len() -> u32 {
        IO.with_borrow(|io| io.len() as u32)
    }

    /// The buffer's parts of these lengths (negative: absent), one after another.
    fn parts<const N: usize>(lens: [i32; N]) -> [Option<Vec<u8>>; N] {
        let io = IO.take();
        let mut at = 0usize;
        lens.map(|len| {
            let len = usize::try_from(len).ok()?;
            let part = io.get(at..at.checked_add(len)?)?;
            at += len;
            Some(part.to_vec())
        })
    }

    /// A part of the buffer as text (JS writes UTF-8).
    fn text(part: Option<Vec<u8>>) -> Option<String> {
        String::from_utf8(part?).ok()
    }

    /// Leaves `text` in the buffer.
    fn put(text: &str) {
        IO.with_borrow_mut(|io| {
            io.clear();
            io.extend_from_slice(text.as_bytes());
        });
    }

    /// Leaves `err` in the buffer: its index with the Rust API, else its fields.
    fn put_error(typed: Option<&Exporter>, err: &Error) {
        let Some(typed) = typed else { return put(&fields(err)) };
        put(&decimal(typed(err) as u64));
    }

    /// The fields of a `GenesysAuthError`, form-encoded.
    pub fn fields(err: &Error) -> String {
        let mut form = genesys_auth::form::Form::new();
        form.append_pair("code", err.code()).append_pair("message", &err.message());
        if let Some(code) = err.oauth_code() {
            form.append_pair("oauthError", code.as_str());
        }
        match err {
            Error::OAuth { status, .. } | Error::Server { status } | Error::Malformed { status, .. } => {
                form.append_pair("status", &decimal(u64::from(*status)));
            }
            Error::RateLimited { retry_after_ms: Some(ms) } => {
                form.append_pair("retryAfterMs", &decimal(*ms));
            }
            Error::Unauthorized { code } => {
                form.append_pair("apiCode", code);
            }
            _ => {}
        }
        form.finish()
    }

    fn with<R>(h: u32, f: impl FnOnce(&mut Engine) -> R) -> Option<R> {
        ENGINES.with_borrow_mut(|all| all.get_mut(h as usize).and_then(Option::as_mut).map(f))
    }

    /// Keeps `engine` for JS, under the number returned.
    pub(crate) fn register(engine: Engine) -> u32 {
        ENGINES.with_borrow_mut(|all| {
            let free = all.iter().position(Option::is_none).unwrap_or(all.len());
            if free == all.len() {
                all.push(None);
            }
            all[free] = Some(engine);
            free as u32
        })
    }

    /// [`Engine::new`] for the texts `t0`..`t6` in the buffer and the numbers `n0`..`n8`: the engine's number, or -1
    /// with the error in the buffer.
    #[wasm_bindgen(js_name = gaNew)]
    #[allow(clippy::too_many_arguments)] // the texts and numbers of `engineArgs`, as wasm takes them
    pub fn new(
        t0: i32,
        t1: i32,
        t2: i32,
        t3: i32,
        t4: i32,
        t5: i32,
        t6: i32,
        n0: f64,
        n1: f64,
        n2: f64,
        n3: f64,
        n4: f64,
        n5: f64,
        n6: f64,
        n7: f64,
        n8: f64,
    ) -> i32 {
        let texts = parts([t0, t1, t2, t3, t4, t5, t6]).map(text);
        match Engine::new(&texts, &[n0, n1, n2, n3, n4, n5, n6, n7, n8]) {
            Ok(engine) => register(engine) as i32,
            Err(err) => {
                put_error(None, &err);
                -1
            }
        }
    }

    /// Lets engine `h` go.
    #[wasm_bindgen(js_name = gaFree)]
    pub fn free(h: u32) {
        ENGINES.with_borrow_mut(|all| all.get_mut(h as usize).map(Option::take));
    }

    /// [`Engine::feed`], with the texts `a`, `b` and the bytes `body` in the buffer and `x` NaN where not given.
    #[wasm_bindgen(js_name = gaFeed)]
    #[allow(clippy::too_many_arguments)]
    pub fn feed(h: u32, kind: u8, n: u32, x: f64, a: i32, b: i32, body: i32) {
        let [a, b, body] = parts([a, b, body]);
        let (a, b) = (text(a), text(b));
        with(h, |e| e.feed(kind, n, Some(x), a.as_deref(), b.as_deref(), body.as_deref()));
    }

    /// [`Engine::next`]: whether an action is in the buffer.
    #[wasm_bindgen(js_name = gaNext)]
    pub fn next(h: u32) -> bool {
        with(h, |e| e.next().map(put).is_some()).unwrap_or(false)
    }

    /// [`Engine::error`]: whether it is in the buffer.
    #[wasm_bindgen(js_name = gaError)]
    pub fn error(h: u32) -> bool {
        with(h, |e| e.error.as_ref().map(|err| put_error(e.typed.as_ref(), err)).is_some()).unwrap_or(false)
    }

    /// [`Engine::discarded`]: whether it is in the buffer.
    #[wasm_bindgen(js_name = gaDiscarded)]
    pub fn discarded(h: u32) -> bool {
        with(h, |e| e.discarded().map(|err| put_error(e.typed.as_ref(), err)).is_some()).unwrap_or(false)
    }

    /// [`Engine::user_error`], in the buffer.
    #[wasm_bindgen(js_name = gaUserError)]
    pub fn user_error(h: u32, status: u16) {
        with(h, |e| put_error(e.typed.as_ref(), &Engine::user_error(status)));
    }

    /// [`Engine::wake_at`], NaN for never.
    #[wasm_bindgen(js_name = gaWake)]
    pub fn wake_at(h: u32) -> f64 {
        with(h, |e| e.wake_at()).flatten().map_or(f64::NAN, |t| t as f64)
    }

    /// [`Engine::expires_at`], NaN while signed out.
    #[wasm_bindgen(js_name = gaExpires)]
    pub fn expires_at(h: u32) -> f64 {
        with(h, |e| e.expires_at()).flatten().map_or(f64::NAN, |t| t as f64)
    }

    /// [`Engine::api_url`] for the text in the buffer: whether the URL is in the buffer.
    #[wasm_bindgen(js_name = gaApiUrl)]
    pub fn api_url(h: u32, path_or_url: i32) -> bool {
        let [p] = parts([path_or_url]);
        with(h, |e| e.api_url(&text(p).unwrap_or_default()).map(|u| put(&u)).is_some()).unwrap_or(false)
    }

    /// [`Engine::callback_state`] for the URL in the buffer: whether the state is in the buffer.
    #[wasm_bindgen(js_name = gaCallbackState)]
    pub fn callback_state(h: u32, href: i32) -> bool {
        let [href] = parts([href]);
        with(h, |e| e.callback_state(&text(href).unwrap_or_default()).map(|s| put(&s)).is_some()).unwrap_or(false)
    }

    /// [`region_from_host_params`] for the query, allowed origins and remembered region in the buffer: 1 with the
    /// region's name in the buffer, 0 for none, -1 with the error in the buffer.
    #[cfg(feature = "engine")]
    #[wasm_bindgen(js_name = gaRegion)]
    pub fn region(query: i32, allow: i32, remembered: i32) -> i32 {
        let [q, a, r] = parts([query, allow, remembered]);
        match region_from_host_params(&text(q).unwrap_or_default(), &text(a).unwrap_or_default(), text(r)) {
            Ok(Some(name)) => {
                put(&name);
                1
            }
            Ok(None) => 0,
            Err(err) => {
                put_error(None, &err);
                -1
            }
        }
    }
}
