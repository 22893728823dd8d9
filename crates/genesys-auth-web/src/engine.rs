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
//! | `abort` | id (drop the request: no answer came in time) |
//! | `lock` | the lock's name |
//! | `unlock`, `close` (the popup), `changed` | — |
//! | `store` | slot (`tokens`, `pending`, `relogin`, `signed-out`), area (`own`: sessionStorage, `shared`: localStorage), key, text |
//! | `remove` | slot, area, key |
//! | `announce` | `tokens` or `logout` |
//! | `navigate`, `address` (replace the address bar) | URL |
//! | `popup` | URL, state |
//! | `ok` | waiters (comma-separated), then `token` + token, `in` + return path, `response` + id, or nothing |
//! | `fail` | waiters; the error in [`Engine::error`] |
//! | `retry` | URL, attempt, status, delay in ms |
//! | `report` | the error in [`Engine::error`] |
//!
//! The names of the events (module [`event`]) and of the actions ([`ACTIONS`]) are defined here once; JS reads them
//! from the engine at start ([`wire::names`]), and a test checks that the executor handles every action.
//!
//! JS reaches the engines through the plain functions of module [`wire`] (numbers in, numbers out, texts through
//! one buffer), called on the module's exports directly: no generated glue per method, no JS objects made in wasm.

use std::cell::RefCell;

use genesys_auth::json::Json;
use genesys_auth::session::{
    Action, Announcement, Area, Config, Event, LoginOptions, Outcome, Persistence, Place, Reply, Request, Restored,
    Session, Slot,
};
use genesys_auth::{Callback, Client, Error, Region, TokenRequest, decimal};
use zeroize::{Zeroize, Zeroizing};

use crate::browser::{BrowserRng, StorageKind};
use crate::options::{MISSING_CLIENT_ID, MISSING_REGION, retry_policy, whole};

/// Now, in epoch milliseconds.
fn now() -> u64 {
    whole(Some(js_sys::Date::now())).unwrap_or(0)
}

fn slot_of(name: &str) -> Option<Slot> {
    Slot::ALL.into_iter().find(|s| s.name() == name)
}

fn area_name(area: Area) -> &'static str {
    match area {
        Area::Own => "own",
        Area::Shared => "shared",
    }
}

/// The names of the actions [`Engine::next`] writes, each the first line of its text: what `js/executor.js` must
/// handle (its test compares this list with the executor's table).
pub const ACTIONS: [&str; 17] = [
    "send", "abort", "body", "lock", "unlock", "store", "remove", "announce", "navigate", "popup", "close", "address",
    "ok", "fail", "retry", "changed", "report",
];

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

/// Defines the events of [`Engine::feed`] once: a constant for each, numbered in order, and their names in that
/// order ([`event::NAMES`], which JS reads from the engine).
macro_rules! events {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// The events of [`Engine::feed`](crate::engine::Engine::feed), by number; JS takes the numbers from [`NAMES`](crate::engine::event::NAMES).
        pub mod event {
            /// The events' names, in the order of their numbers.
            pub const NAMES: &[&str] = &[$($text),*];
            events!(@number 0u8, $($(#[$doc])* $name,)*);
        }
    };
    (@number $n:expr, $(#[$doc:meta])* $name:ident, $($rest:tt)*) => {
        $(#[$doc])*
        pub const $name: u8 = $n;
        events!(@number $n + 1, $($rest)*);
    };
    (@number $n:expr,) => {};
}

events! {
    /// Time passed.
    TIMEOUT = "timeout",
    /// `a`: the page's URL.
    LOCATION = "location",
    /// `n`: the caller.
    WANT_TOKEN = "want_token",
    /// `n`: the caller.
    WANT_REFRESH = "want_refresh",
    /// `n`: the caller, `a`: the path or URL.
    FETCH = "fetch",
    /// `n`: the caller, `x`: the popup's timeout, `a`: the return path, `b`: the authorize parameters.
    LOGIN = "login",
    /// As [`LOGIN`], with a popup.
    LOGIN_POPUP = "login_popup",
    /// As [`LOGIN`], by redirect.
    LOGIN_REDIRECT = "login_redirect",
    /// `n`: the caller, `a`: the page's URL, `b`: the pending login.
    CALLBACK = "callback",
    /// `a`: the callback URL from the popup.
    POPUP_CALLBACK = "popup_callback",
    /// The popup was closed.
    POPUP_CLOSED = "popup_closed",
    /// The popup was blocked.
    POPUP_BLOCKED = "popup_blocked",
    /// `a`: the stored tokens read under the lock.
    LOCK_GRANTED = "lock_granted",
    /// `a`: the stored tokens, `b`: what the platform said.
    LOCK_UNAVAILABLE = "lock_unavailable",
    /// `a`: what storage holds now.
    STORED_CHANGED = "stored_changed",
    /// `a`: the slot, `b`: what the platform said.
    STORE_FAILED = "store_failed",
    /// `n`: the request, `x`: the status, `b`: Retry-After, `body`: the body.
    ANSWER = "answer",
    /// `n`: the request, `a`: what the platform said.
    NETWORK = "network",
    /// `n`: the request (a redirect that was not followed).
    REDIRECTED = "redirected",
    /// `n`: the caller.
    LOGOUT = "logout",
    /// `n`: the caller, `a`: where the Genesys logout page sends the browser back.
    LOGOUT_SSO = "logout_sso",
    /// `n`: 1 turns the background refresh on, 0 off.
    KEEP_FRESH = "keep_fresh",
    /// Another tab announced new tokens; `a`: what storage holds now.
    ANNOUNCED_TOKENS = "announced_tokens",
    /// Another tab announced a logout; `a`: what storage holds now.
    ANNOUNCED_LOGOUT = "announced_logout",
    /// What storage held at start: `a` the tokens, `b` the loop guard, `x` 1 when the signed-out mark is there.
    RESTORED = "restored",
}

/// Errors on their way from the engine through JS back to Rust (the Rust API): JS carries their index.
pub(crate) type ErrorTable = std::rc::Rc<RefCell<Vec<Option<Error>>>>;

impl Engine {
    /// Checks the options of `GenesysAuth.create` and makes a signed-out session (the executor then feeds
    /// [`event::RESTORED`] with what storage holds at the places [`Engine::place`] names). `options`: a JSON object
    /// as `engineOptions` in `js/executor.js` writes it — `region`, `clientId`, `redirectUri`, `storage`, `scope`
    /// (texts), `retry` (an object of `maxAttempts`, `baseDelayMs`, `maxDelayMs`, `maxRetryAfterMs`,
    /// `maxTotalMs`), `refreshSkewMs` (whole numbers), `relogin`, `framed`, `popups` (booleans); each may be absent.
    ///
    /// # Errors
    /// `invalid_config` or `unknown_region`.
    pub fn new(options: &str) -> Result<Engine, Error> {
        let o = Json::parse(options.as_bytes()).unwrap_or(Json::Null);
        let text = |k: &str| o.get(k).and_then(Json::as_str);
        let whole_in = |j: Option<&Json>| j.and_then(Json::as_i64).and_then(|n| u64::try_from(n).ok());
        let number = |k: &str| whole_in(o.get(k));
        let retry = |k: &str| whole_in(o.get("retry").and_then(|r| r.get(k)));
        let flag = |k: &str| matches!(o.get(k), Some(Json::Bool(true)));
        let region = Region::from_config(text("region").ok_or(MISSING_REGION)?)?;
        let client =
            Client::new(region, text("clientId").ok_or(MISSING_CLIENT_ID)?, text("redirectUri").unwrap_or_default())?;
        let storage = text("storage").map_or(Ok(StorageKind::Memory), StorageKind::parse)?;
        // Built in one piece, not `Config::new` and then field by field: each copy of this large struct is written
        // out word by word in the wasm (−228 B gzipped).
        let config = Config {
            client,
            retry: retry_policy(
                ["maxAttempts", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs", "maxTotalMs"].map(retry),
            ),
            refresh_skew_ms: number("refreshSkewMs").unwrap_or(genesys_auth::session::DEFAULT_REFRESH_SKEW_MS),
            persistence: match storage {
                StorageKind::Memory => Persistence::Memory,
                StorageKind::Session => Persistence::Private,
                StorageKind::Local => Persistence::Shared,
            },
            relogin: flag("relogin"),
            framed: flag("framed"),
            popup_capable: flag("popups"),
            scope: text("scope").map(str::to_string), // a blank one is dropped by the core (`AuthorizeRequest::scope`)
            keep_fresh: false,
            memory_ends_with_call: false,
        };
        let session = Session::new(config, Box::new(BrowserRng));
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
        let (waiter, id) = (u64::from(n), u64::from(n));
        let event = match kind {
            event::TIMEOUT => Event::Timeout,
            event::LOCATION => Event::Location { href: a.unwrap_or_default() },
            event::WANT_TOKEN => Event::WantToken { waiter },
            event::WANT_REFRESH => Event::WantRefresh { waiter },
            event::FETCH => Event::Fetch { waiter, path_or_url: a.unwrap_or_default() },
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
                Event::Login { waiter, options }
            }
            event::CALLBACK => Event::Callback { waiter, url: a.unwrap_or_default(), pending: b },
            event::POPUP_CALLBACK => Event::PopupCallback { url: a.unwrap_or_default() },
            event::POPUP_CLOSED => Event::PopupClosed,
            event::POPUP_BLOCKED => Event::PopupBlocked,
            event::LOCK_GRANTED => Event::LockGranted { stored: a },
            event::LOCK_UNAVAILABLE => Event::LockUnavailable { stored: a, detail: b.unwrap_or_default() },
            event::STORED_CHANGED => Event::StoredChanged { stored: a },
            event::STORE_FAILED => match slot_of(a.unwrap_or_default()) {
                Some(slot) => Event::StoreFailed { slot, detail: b.unwrap_or_default() },
                None => return,
            },
            event::ANSWER => {
                let status = whole(x).map_or(0, |v| v.min(999) as u16);
                Event::Answer { id, reply: Reply::Http { status, retry_after: b, body } }
            }
            event::NETWORK => Event::Answer { id, reply: Reply::Network { detail: a.unwrap_or_default() } },
            event::REDIRECTED => Event::Answer { id, reply: Reply::Redirected { status: 0 } },
            event::LOGOUT => Event::Logout { waiter, sso_return: None },
            event::LOGOUT_SSO => {
                let back = a.map_or_else(|| self.session.config().client.redirect_uri().to_string(), str::to_string);
                return self.session.handle(Event::Logout { waiter, sso_return: Some(&back) }, now());
            }
            event::KEEP_FRESH => Event::KeepFresh { on: n != 0 },
            event::ANNOUNCED_TOKENS => Event::Announced { announcement: Announcement::Tokens, stored: a },
            event::ANNOUNCED_LOGOUT => Event::Announced { announcement: Announcement::Logout, stored: a },
            event::RESTORED => {
                let signed_out = whole(x).is_some_and(|v| v != 0).then_some("1");
                Event::Restored(Restored { tokens: a, relogin_at: b, signed_out })
            }
            _ => return, // not an event of this engine
        };
        self.session.handle(event, now());
    }

    /// Where `slot` is kept: the area's name and the key; `None` when it is not stored.
    pub fn place(&self, slot: Slot) -> Option<Place> {
        self.session.place(slot)
    }

    /// The name of the Web Lock and of the BroadcastChannel shared by this client's tabs.
    pub fn shared_name(&self) -> String {
        self.session.shared_name()
    }

    /// Whether an app's guard may start a login by itself now ([`Session::should_auto_login`]).
    pub fn should_auto_login(&self) -> bool {
        self.session.should_auto_login(now())
    }

    /// True after the user signed out, until the app calls login.
    pub fn is_signed_out(&self) -> bool {
        self.session.is_signed_out()
    }

    /// The next action, or `None` when there is none (see the module documentation).
    #[allow(clippy::should_implement_trait)] // the action borrows the engine: not an iterator
    pub fn next(&mut self) -> Option<&str> {
        let action = self.session.poll_action()?;
        // The last action's text may have held a token: wiped, not just forgotten.
        self.out.zeroize();
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
            Action::Abort { request } => {
                self.put(&["abort"]);
                self.put_number(request);
            }
            Action::Lock { name } => self.put(&["lock", &name]),
            Action::Unlock => self.put(&["unlock"]),
            Action::Store { slot, place, text } => {
                self.put(&["store", slot.name(), area_name(place.area), &place.key, text.secret()]);
            }
            Action::Remove { slot, place } => self.put(&["remove", slot.name(), area_name(place.area), &place.key]),
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
                    Ok(Outcome::Refreshed | Outcome::NoCallback | Outcome::Navigating | Outcome::SignedOut) => {}
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
            Action::Changed => self.put(&["changed"]),
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
/// `apiCode`), or with the Rust API as one field, `index`, its place in the Rust table.
///
/// Only the npm package's build (feature `engine`) exports them from the wasm module. With the Rust API they stay
/// private: `crate::Auth` hands `js/executor.js` an object of its own with these functions, reachable only through
/// the executor, so that no script of the page can drive an engine (or read its tokens) through the app's glue.
pub mod wire {
    #[cfg(feature = "engine")]
    use wasm_bindgen::prelude::*;

    use super::*;

    thread_local! {
        static ENGINES: RefCell<Vec<Option<Engine>>> = const { RefCell::new(Vec::new()) };
        static IO: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// Makes room for `len` bytes in the buffer (keeping what it holds up to there) and returns where it starts.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaIo))]
    pub fn io(len: u32) -> u32 {
        IO.with_borrow_mut(|io| {
            io.resize(len as usize, 0);
            io.as_ptr() as u32
        })
    }

    /// How many bytes of text the buffer holds.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaLen))]
    pub fn len() -> u32 {
        IO.with_borrow(|io| io.len() as u32)
    }

    /// The buffer's parts of these lengths (negative: absent), one after another. The buffer is wiped once they
    /// are taken, and so is each part when it is dropped (they may hold tokens or a token answer).
    fn parts<const N: usize>(lens: [i32; N]) -> [Option<Zeroizing<Vec<u8>>>; N] {
        let io = Zeroizing::new(IO.take());
        let mut at = 0usize;
        lens.map(|len| {
            let len = usize::try_from(len).ok()?;
            let part = io.get(at..at.checked_add(len)?)?;
            at += len;
            Some(Zeroizing::new(part.to_vec()))
        })
    }

    /// A part of the buffer as text (JS writes UTF-8), wiped when dropped.
    fn text(part: Option<Zeroizing<Vec<u8>>>) -> Option<Zeroizing<String>> {
        let bytes: Vec<u8> = core::mem::take(&mut *part?);
        match String::from_utf8(bytes) {
            Ok(t) => Some(Zeroizing::new(t)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                None
            }
        }
    }

    /// Leaves `lines` in the buffer, one per line (what it held before wiped first, its whole capacity).
    fn put_lines(lines: &[&str]) {
        IO.with_borrow_mut(|io| {
            io.zeroize();
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    io.push(b'\n');
                }
                io.extend_from_slice(line.as_bytes());
            }
        });
    }

    /// Leaves `text` in the buffer.
    fn put(text: &str) {
        put_lines(&[text]);
    }

    /// Wipes the buffer: JS calls it once it has read a text that may hold a secret (every action and answer).
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaWipe))]
    pub fn wipe() {
        IO.with_borrow_mut(|io| io.zeroize());
    }

    /// Leaves `err` in the buffer: its index with the Rust API, else its fields.
    fn put_error(typed: Option<&Exporter>, err: &Error) {
        let Some(typed) = typed else { return put(&fields(err)) };
        // The same encoding, one field: `index=<n>`.
        put(&genesys_auth::concat(&["index=", &decimal(typed(err) as u64)]));
    }

    /// The fields of a `GenesysAuthError`, form-encoded.
    pub fn fields(err: &Error) -> String {
        let mut form = genesys_auth::form::Form::new();
        form.append_pair("code", err.code()).append_pair("message", &err.message());
        if let Some(code) = err.oauth_code() {
            form.append_pair("oauthError", code.as_str());
        }
        match err {
            Error::OAuth { status, .. }
            | Error::Server { status }
            | Error::Malformed { status, .. }
            | Error::Redirected { status } => {
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

    /// [`Engine::new`] for the options (JSON) in the buffer, `len` bytes: the engine's number, or -1 with the error
    /// in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaNew))]
    pub fn new(len: i32) -> i32 {
        let [options] = parts([len]).map(text);
        match Engine::new(options.as_ref().map_or("", |o| o.as_str())) {
            Ok(engine) => register(engine) as i32,
            Err(err) => {
                put_error(None, &err);
                -1
            }
        }
    }

    /// The names of the events (`0`: their numbers are their places in the list) or of the actions (`1`), one per
    /// line, in the buffer: the one definition JS takes its codes from.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaNames))]
    pub fn names(which: u32) -> bool {
        put_lines(if which == 0 { event::NAMES } else { &ACTIONS });
        true
    }

    /// Where engine `h` keeps each slot, in the buffer: one line each of slot, area and key for every slot that is
    /// stored.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaPlaces))]
    pub fn places(h: u32) -> bool {
        with(h, |e| {
            let places: [Option<Place>; 4] = Slot::ALL.map(|slot| e.place(slot));
            let shared = e.shared_name();
            let mut lines: Vec<&str> = Vec::new();
            for (slot, place) in Slot::ALL.iter().zip(&places) {
                if let Some(place) = place {
                    lines.push(slot.name());
                    lines.push(area_name(place.area));
                    lines.push(&place.key);
                }
            }
            lines.push(&shared);
            put_lines(&lines);
        })
        .is_some()
    }

    /// [`Engine::should_auto_login`].
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaAutoLogin))]
    pub fn auto_login(h: u32) -> bool {
        with(h, |e| e.should_auto_login()).unwrap_or(false)
    }

    /// [`Engine::is_signed_out`].
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaSignedOut))]
    pub fn signed_out(h: u32) -> bool {
        with(h, |e| e.is_signed_out()).unwrap_or(false)
    }

    /// Lets engine `h` go.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaFree))]
    pub fn free(h: u32) {
        ENGINES.with_borrow_mut(|all| all.get_mut(h as usize).map(Option::take));
    }

    /// [`Engine::feed`], with the texts `a`, `b` and the bytes `body` in the buffer and `x` NaN where not given.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaFeed))]
    #[allow(clippy::too_many_arguments)]
    pub fn feed(h: u32, kind: u8, n: u32, x: f64, a: i32, b: i32, body: i32) {
        let [a, b, body] = parts([a, b, body]);
        let (a, b) = (text(a), text(b));
        let (a, b) = (a.as_ref().map(|t| t.as_str()), b.as_ref().map(|t| t.as_str()));
        with(h, |e| e.feed(kind, n, Some(x), a, b, body.as_ref().map(|v| v.as_slice())));
    }

    /// [`Engine::next`]: whether an action is in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaNext))]
    pub fn next(h: u32) -> bool {
        with(h, |e| e.next().map(put).is_some()).unwrap_or(false)
    }

    /// [`Engine::error`]: whether it is in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaError))]
    pub fn error(h: u32) -> bool {
        with(h, |e| e.error.as_ref().map(|err| put_error(e.typed.as_ref(), err)).is_some()).unwrap_or(false)
    }

    /// [`Engine::discarded`]: whether it is in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaDiscarded))]
    pub fn discarded(h: u32) -> bool {
        with(h, |e| e.discarded().map(|err| put_error(e.typed.as_ref(), err)).is_some()).unwrap_or(false)
    }

    /// [`Engine::user_error`], in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaUserError))]
    pub fn user_error(h: u32, status: u16) {
        with(h, |e| put_error(e.typed.as_ref(), &Engine::user_error(status)));
    }

    /// [`Engine::wake_at`], NaN for never.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaWake))]
    pub fn wake_at(h: u32) -> f64 {
        with(h, |e| e.wake_at()).flatten().map_or(f64::NAN, |t| t as f64)
    }

    /// [`Engine::expires_at`], NaN while signed out.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaExpires))]
    pub fn expires_at(h: u32) -> f64 {
        with(h, |e| e.expires_at()).flatten().map_or(f64::NAN, |t| t as f64)
    }

    /// [`Engine::api_url`] for the text in the buffer: whether the URL is in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaApiUrl))]
    pub fn api_url(h: u32, path_or_url: i32) -> bool {
        let [p] = parts([path_or_url]);
        with(h, |e| e.api_url(&text(p).unwrap_or_default()).map(|u| put(&u)).is_some()).unwrap_or(false)
    }

    /// [`Engine::callback_state`] for the URL in the buffer: whether the state is in the buffer.
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaCallbackState))]
    pub fn callback_state(h: u32, href: i32) -> bool {
        let [href] = parts([href]);
        with(h, |e| e.callback_state(&text(href).unwrap_or_default()).map(|s| put(&s)).is_some()).unwrap_or(false)
    }

    /// [`region_from_host_params`] for the query, allowed origins and remembered region in the buffer: 1 with the
    /// region's name in the buffer, 0 for none, -1 with the error in the buffer.
    #[cfg(feature = "engine")]
    #[cfg_attr(feature = "engine", wasm_bindgen(js_name = gaRegion))]
    pub fn region(query: i32, allow: i32, remembered: i32) -> i32 {
        let [q, a, r] = parts([query, allow, remembered]);
        let (q, a, r) = (text(q), text(a), text(r));
        let (q, a) = (q.as_ref().map_or("", |t| t.as_str()), a.as_ref().map_or("", |t| t.as_str()));
        match region_from_host_params(q, a, r.map(|t| t.to_string())) {
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
