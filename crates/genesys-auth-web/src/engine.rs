//! The session engine of the browser: the core's session machine ([`genesys_auth::session::Session`]) behind a
//! small synchronous JS API, for the one browser executor (`js/executor.js`: the npm package's class `GenesysAuth`,
//! and under [`crate::Auth`]), which does fetch, timers, storage, Web Locks, BroadcastChannel and popups and
//! decides nothing.
//!
//! Events go in through [`Engine::feed`] (the time is read here); actions come out one at a time from [`Engine::next`], as
//! lines of one string (cheaper across the wasm boundary than arrays): the action's name, then its fields. None of
//! the fields can hold a line break (URLs, form bodies and storage texts are escaped, tokens are printable ASCII,
//! return paths have no control characters). An action that carries an error (`fail`, `report`) leaves it in
//! [`Engine::error`] as a JS `GenesysAuthError`.
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

use genesys_auth::session::{
    Action, Announcement, Config, LoginOptions, Outcome, Persistence, Reply, Request, Session, Slot,
};
use genesys_auth::{Callback, Client, Error, OsRng, Region, TokenRequest, decimal};
use wasm_bindgen::prelude::*;

use crate::browser::StorageKind;
use crate::error::to_js;
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
#[wasm_bindgen]
pub struct Engine {
    session: Session,
    error: Option<Error>,
    /// With the Rust API: how errors are handed to JS instead (as numbers into its table, so that Rust gets them
    /// back typed). A function, so that the npm build carries none of it.
    typed: Option<Exporter>,
    /// The action being written by [`Engine::next`] (one buffer, reused).
    out: String,
}

/// How the Rust API has errors handed to JS (see [`Engine::type_errors`]).
type Exporter = Box<dyn Fn(&Error) -> JsValue>;

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
}

/// Errors on their way from the engine through JS back to Rust (the Rust API): JS carries their index.
pub(crate) type ErrorTable = std::rc::Rc<std::cell::RefCell<Vec<Option<Error>>>>;

impl Engine {
    /// The engine for the options read by `engineArgs` (see [`Engine::new`]).
    pub(crate) fn from_options(texts: &str, numbers: &[f64]) -> Result<Engine, Error> {
        let texts: Vec<(String, String)> = genesys_auth::form::parse(texts).collect();
        let text = |i: u8| texts.iter().find(|(n, _)| n.as_bytes() == [b'0' + i]).map(|(_, v)| v.clone());
        let number = |i: usize| whole(numbers.get(i).copied());
        let region = Region::from_config(&text(0).ok_or(MISSING_REGION)?)?;
        let client = Client::new(region, &text(1).ok_or(MISSING_CLIENT_ID)?, &text(2).unwrap_or_default())?;
        let storage = text(3).as_deref().map_or(Ok(StorageKind::Memory), StorageKind::parse)?;
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
            scope: text(4), // a blank one is dropped by the core (`AuthorizeRequest::scope`)
            keep_fresh: false,
        };
        let session = Session::new(config, text(5).as_deref(), text(6).as_deref(), now(), Box::new(OsRng));
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
            JsValue::from(table.len() - 1)
        }));
    }

    /// `err` for JS: a `GenesysAuthError`, or with the Rust API its index in the table.
    fn export(&self, err: &Error) -> JsValue {
        self.typed.as_ref().map_or_else(|| to_js(err), |typed| typed(err))
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
}

#[wasm_bindgen]
impl Engine {
    /// Checks the options of `GenesysAuth.create` and starts the session from what storage holds. `text`: region,
    /// clientId, redirectUri, storage, scope, the stored tokens, the time of the last automatic sign-in (each
    /// `undefined` where not given). `numbers`: retry maxAttempts, baseDelayMs, maxDelayMs, maxRetryAfterMs,
    /// maxTotalMs, the refresh skew in ms (NaN where not given), then reloginOnExpiry, framed, popup possible
    /// (BroadcastChannel), each 1 or 0.
    ///
    /// # Errors
    /// `invalid_config` or `unknown_region`.
    #[wasm_bindgen(constructor)]
    pub fn new(texts: &str, numbers: &[f64]) -> Result<Engine, JsValue> {
        Engine::from_options(texts, numbers).map_err(|e| to_js(&e))
    }

    /// One event (the numbers of module `event`): `n` is the caller (waiter) or the request id, `x` the HTTP status
    /// or the popup login's timeout, `a` and `b` the texts of the event (for a login: the return path and the
    /// form-encoded authorize parameters), `body` an answer's body. Then drain [`Engine::next`].
    pub fn feed(
        &mut self,
        kind: u8,
        n: u32,
        x: Option<f64>,
        a: Option<String>,
        b: Option<String>,
        body: Option<Box<[u8]>>,
    ) {
        let s = &mut self.session;
        let (w, t) = (u64::from(n), now());
        let a = a.as_deref();
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
                let params = b.as_deref().map(|q| genesys_auth::form::parse(q).collect()).unwrap_or_default();
                let options = LoginOptions {
                    return_to: a.map(str::to_string),
                    popup,
                    timeout_ms: whole(x),
                    params,
                    redirect_uri: None,
                };
                s.login(w, &options, t);
            }
            event::CALLBACK => s.callback(w, a.unwrap_or_default(), b.as_deref(), t),
            event::POPUP_CALLBACK => drop(s.popup_callback(a.unwrap_or_default(), t)),
            event::POPUP_CLOSED => s.popup_closed(),
            event::POPUP_BLOCKED => s.popup_blocked(),
            event::LOCK_GRANTED => s.lock_granted(a, t),
            event::STORED_CHANGED => s.stored_changed(a, t),
            event::STORE_FAILED => s.store_failed(slot_of(a.unwrap_or_default()), b.as_deref().unwrap_or_default()),
            event::ANSWER => {
                let status = whole(x).map_or(0, |v| v.min(999) as u16);
                s.answer(w, Reply::Http { status, retry_after: b.as_deref(), body: body.as_deref() }, t);
            }
            event::NETWORK => s.answer(w, Reply::Network { detail: a.unwrap_or_default() }, t),
            event::LOGOUT => s.logout(w, None, t),
            event::LOGOUT_SSO => {
                let back = a.map_or_else(|| s.config().client.redirect_uri().to_string(), str::to_string);
                s.logout(w, Some(&back), t);
            }
            event::KEEP_FRESH => s.set_keep_fresh(n != 0),
            _ => {}
        }
    }

    /// The next action, or `undefined` when there is none (see the module documentation).
    #[allow(clippy::should_implement_trait)] // a JS method, not an iterator
    pub fn next(&mut self) -> Option<String> {
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
        Some(self.out.clone())
    }

    /// The error of the last `fail` or `report` action.
    pub fn error(&self) -> JsValue {
        self.error.as_ref().map_or(JsValue::UNDEFINED, |e| self.export(e))
    }

    /// When `feed(TIMEOUT)` is due next (epoch ms), if ever.
    #[wasm_bindgen(js_name = wakeAt)]
    pub fn wake_at(&self) -> Option<f64> {
        self.session.poll_timeout().map(|t| t as f64)
    }

    /// `path_or_url` as a URL on the region's API origin, or `undefined` when the token must not go there (the one
    /// host rule of the core, for apps whose own HTTP client adds the token, such as an Angular interceptor).
    #[wasm_bindgen(js_name = apiUrl)]
    pub fn api_url(&self, path_or_url: &str) -> Option<String> {
        self.session.config().client.region().api_url(path_or_url).ok()
    }

    /// When the access token expires (epoch ms), while signed in (tokens are held).
    #[wasm_bindgen(js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.session.expires_at_ms().map(|t| t as f64)
    }

    /// Why tokens found in storage at start were discarded, if they were.
    pub fn discarded(&self) -> JsValue {
        self.session.discarded().map_or(JsValue::UNDEFINED, |e| self.export(e))
    }

    /// The `state` of the OAuth callback in `href`, if it is one with a state (it names the popup hand-off channel).
    #[wasm_bindgen(js_name = callbackState)]
    pub fn callback_state(&self, href: &str) -> Option<String> {
        if !Callback::is_callback(href) {
            return None;
        }
        Callback::parse(href).ok()?.state().map(|s| s.secret().to_string())
    }

    /// The error of `currentUser` for an answer with `status`: `server_error` when it is not a success, else
    /// `malformed_response` (the answer is not JSON).
    #[wasm_bindgen(js_name = userError)]
    pub fn user_error(&self, status: u16) -> JsValue {
        let err = if (200..300).contains(&status) {
            Error::Malformed { status, reason: "the /users/me answer is not JSON", body: String::new() }
        } else {
            Error::Server { status }
        };
        self.export(&err)
    }
}

/// The region Genesys Cloud gives an embedded app in `query` (`gcHostOrigin`, `pcEnvironment`, `gcTargetEnv`),
/// as a name; `allow`: exact origins accepted besides the known regions, form-encoded (`a=<origin>&a=<origin>`).
/// With no parameter, `remembered` (from an earlier page of the round trip) if it still names an acceptable region.
///
/// # Errors
/// `unknown_region` for a parameter naming anything else.
#[cfg(feature = "engine")]
#[wasm_bindgen(js_name = regionFromHostParams)]
pub fn region_from_host_params(
    query: &str,
    allow: &str,
    remembered: Option<String>,
) -> Result<Option<String>, JsValue> {
    // Form-encoded (`a=<origin>&a=<origin>`): read by the reader the engine has anyway, not a string search of its own.
    let pairs: Vec<(String, String)> = genesys_auth::form::parse(allow).collect();
    let mut allow: Vec<&str> = Vec::new();
    for (_, origin) in &pairs {
        if !origin.is_empty() {
            allow.push(origin);
        }
    }
    match Region::from_host_params(query, &allow).map_err(|e| to_js(&e))? {
        Some(region) => Ok(Some(region.name())),
        None => Ok(remembered.filter(|n| Region::parse(n).is_ok() || allow.contains(&n.as_str()))),
    }
}
