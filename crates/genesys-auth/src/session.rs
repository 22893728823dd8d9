//! The session machine: every sign-in decision above the protocol steps, made once for every driver.
//!
//! Shaped like quinn-proto's `Connection`: a driver hands [`Session`] events with the time (a caller wants a
//! token, an HTTP answer arrived, the timer fired, the lock was granted, another tab changed the stored tokens, a
//! callback URL, a popup's result) and then drains [`Session::poll_action`] and reads [`Session::poll_timeout`].
//! The machine never sleeps, locks, stores or sends: it says what to do, and the driver does exactly that.
//!
//! It decides: refresh ahead of expiry; one refresh in flight however many callers wait; the re-check of shared
//! storage after the cross-tab (or cross-process) lock; retries per [`RetryPolicy`], never re-sending a spent
//! code; 401 → one refresh → one retry; which errors end the session; silent re-login and its loop guard; popup
//! or redirect inside a frame; which origin may receive the token ([`crate::Region::api_url`]); that stored tokens are
//! bound to the region and client they were issued for; that a failed storage write keeps the session in memory
//! and is reported once; and that a refused or impossible refresh never throws away a still-valid access token.
//!
//! ```
//! use genesys_auth::session::{Action, Config, Outcome, Request, Session};
//! use genesys_auth::{Client, OsRng, Region};
//!
//! let client = Client::new(Region::custom("http://127.0.0.1:8080").unwrap(), "cid", "http://localhost:3000/").unwrap();
//! let now = 1_700_000_000_000;
//! let mut session = Session::new(Config::new(client), None, None, now, Box::new(OsRng));
//! session.want_token(1, now); // no session yet
//! match session.poll_action() {
//!     Some(Action::Resolve { waiters, outcome: Err(e) }) => assert_eq!((waiters, e.code()), (vec![1], "login_required")),
//!     other => panic!("{other:?}"),
//! }
//! ```

use crate::callback::without_callback;
use crate::{
    AccessToken, Callback, Client, Error, Failure, PendingLogin, RetryPolicy, Rng, StoredText, TokenRequest, TokenSet,
    api_error, parse_token_response,
};

/// A caller waiting for an answer, numbered by the driver (each driver call that awaits gets its own).
pub type Waiter = u64;

/// An HTTP request the machine asked for, numbered by the machine.
pub type RequestId = u64;

/// How long a page that is navigating to the login page keeps its callers waiting before failing them: if it is
/// still here by then, something stopped the navigation.
pub const NAVIGATION_GRACE_MS: u64 = 10_000;

/// Where the driver keeps the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Only in memory (the browser default): nothing is stored.
    Memory,
    /// Storage private to this tab or process (sessionStorage).
    Private,
    /// Storage shared with other tabs or processes (localStorage, a cache file): refreshes take the lock, and the
    /// stored tokens are read again under it.
    Shared,
}

/// What the machine needs to know about the app and its driver.
#[derive(Clone, Debug)]
pub struct Config {
    /// The OAuth client (region, client id, registered redirect URI).
    pub client: Client,
    /// Retries of token and API requests.
    pub retry: RetryPolicy,
    /// Refresh this long before the access token expires.
    pub refresh_skew_ms: u64,
    /// Where tokens are kept.
    pub persistence: Persistence,
    /// Sign in again automatically (by redirect) when the session can no longer be refreshed.
    pub relogin: bool,
    /// The app runs inside a frame: sign in with a popup, never redirect the frame automatically.
    pub framed: bool,
    /// The driver can receive a popup's callback (BroadcastChannel in a browser, a loopback listener natively).
    pub popup_capable: bool,
    /// Scopes to request (space-separated), if any.
    pub scope: Option<String>,
    /// Refresh in the background ahead of expiry, with no caller asking (for apps whose API client never asks
    /// for a token, such as the official SDK, or that hold a notifications WebSocket). Also
    /// [`Session::set_keep_fresh`].
    pub keep_fresh: bool,
}

/// A background refresh that failed (the token still valid) is tried again after this long at the soonest.
pub const KEEP_FRESH_RETRY_MS: u64 = 30_000;

/// How long a tab waits for new tokens another tab announced ([`Session::tokens_announced`]) but its own view of
/// the shared storage does not show yet, before it refreshes by itself after all.
pub const ANNOUNCED_WAIT_MS: u64 = 1_000;

impl Config {
    /// Defaults: memory storage, 60 s refresh skew, the default retry policy, automatic re-login, not framed,
    /// popups possible.
    pub fn new(client: Client) -> Self {
        Config {
            client,
            retry: RetryPolicy::default(),
            refresh_skew_ms: 60_000,
            persistence: Persistence::Memory,
            relogin: true,
            framed: false,
            popup_capable: true,
            scope: None,
            keep_fresh: false,
        }
    }
}

/// Which stored value an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The token set, in the storage of [`Config::persistence`].
    Tokens,
    /// The pending login, which must survive the redirect: the tab's session storage (or memory natively).
    Pending,
    /// When the last automatic sign-in happened (the loop guard): the tab's session storage.
    Relogin,
}

/// What a driver tells other tabs or processes sharing the storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
    /// New tokens are in the shared storage (never on the channel itself).
    Tokens,
    /// The session ended.
    Logout,
}

/// A request to send.
#[derive(Debug)]
#[non_exhaustive]
pub enum Request {
    /// A `POST` to the token endpoint, exactly as described.
    Token {
        /// Feed the answer back with this id.
        id: RequestId,
        /// URL, headers and form body.
        request: TokenRequest,
    },
    /// The app's API request (its own method, headers and body, kept by the driver for `waiter`) to `url`, with
    /// `Authorization: Bearer <token>`.
    Api {
        /// Feed the answer back with this id.
        id: RequestId,
        /// The caller whose request this is.
        waiter: Waiter,
        /// On the region's API origin, checked.
        url: String,
        /// The Bearer token.
        token: AccessToken,
    },
    /// `DELETE /api/v2/tokens/me` with the Bearer token (revocation at logout, one attempt).
    Revoke {
        /// Feed the answer back with this id.
        id: RequestId,
        /// `https://api.<env>/api/v2/tokens/me`.
        url: String,
        /// The token to revoke.
        token: AccessToken,
    },
}

/// What a caller gets when its wait ends well.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A valid access token.
    Token(AccessToken),
    /// The refresh asked for is done.
    Refreshed,
    /// The callback was handled: signed in, back at this same-origin path (if the login had one).
    SignedIn {
        /// Where the app wanted to return.
        return_to: Option<String>,
    },
    /// The URL carried no callback: nothing was done.
    NoCallback,
    /// The page is navigating to the login page.
    Navigating,
    /// Hand the app the answer of this API request.
    Response {
        /// The request whose answer it is.
        request: RequestId,
    },
    /// Signed out.
    SignedOut,
}

/// A retry about to happen, for an app's "reconnecting" hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryNotice {
    /// The URL (never holds a token).
    pub url: String,
    /// Attempts made so far.
    pub attempt: u32,
    /// HTTP status of the failed attempt, 0 for no answer.
    pub status: u16,
    /// Milliseconds until the next attempt.
    pub delay_ms: u64,
}

/// What the driver must do, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Send this request; feed its answer to [`Session::answer`].
    Send(Request),
    /// The answer of this request is needed with its body: feed it again with the body.
    ReadBody {
        /// The request.
        request: RequestId,
    },
    /// Take the lock shared with other tabs or processes; feed [`Session::lock_granted`] with the stored tokens
    /// read under it.
    Lock,
    /// Release the lock.
    Unlock,
    /// Write `text` to `slot`. A refusal must be fed to [`Session::store_failed`] before the next
    /// [`Session::poll_action`].
    Store {
        /// Where.
        slot: Slot,
        /// What (may hold secrets).
        text: StoredText,
    },
    /// Delete `slot`.
    Remove {
        /// Where.
        slot: Slot,
    },
    /// Tell the other tabs or processes.
    Announce(Announcement),
    /// Navigate the whole page (or open the system browser) to this URL.
    Navigate {
        /// The URL.
        url: String,
    },
    /// Open the login popup at `url` (the callback for `state` comes back through it).
    OpenPopup {
        /// The authorize URL.
        url: String,
        /// The login's `state` (names the hand-off channel).
        state: String,
    },
    /// Close the login popup.
    ClosePopup,
    /// Show this URL in the address bar without navigating (the callback removed).
    ReplaceAddress {
        /// The URL.
        url: String,
    },
    /// End these callers' waits.
    Resolve {
        /// Who.
        waiters: Vec<Waiter>,
        /// With what.
        outcome: Result<Outcome, Error>,
    },
    /// A request is retried after a pause.
    Retrying(RetryNotice),
    /// The session state changed (signed in or out, new expiry): tell the app's listeners.
    Changed,
    /// Something the app should know that ends nothing (a storage write refused, stored tokens discarded).
    Report(Error),
}

/// How an HTTP request ended.
#[derive(Clone, Copy, Debug)]
pub enum Reply<'a> {
    /// An answer.
    Http {
        /// Its status.
        status: u16,
        /// Its `Retry-After` header.
        retry_after: Option<&'a str>,
        /// Its body, if read (the machine asks with [`Action::ReadBody`] when it needs one it was not given).
        body: Option<&'a [u8]>,
    },
    /// No answer (offline, DNS, CORS, dropped connection).
    Network {
        /// What the platform said.
        detail: &'a str,
    },
}

/// How to start a login.
#[derive(Clone, Debug, Default)]
pub struct LoginOptions {
    /// Where to come back to (kept only if it is a same-origin path).
    pub return_to: Option<String>,
    /// `Some(true)`: popup, `Some(false)`: redirect; `None`: popup inside a frame, redirect otherwise.
    pub popup: Option<bool>,
    /// A different registered redirect URI for this attempt (a loopback URI with its port).
    pub redirect_uri: Option<String>,
    /// Give up on a popup login after this long (default 5 minutes).
    pub timeout_ms: Option<u64>,
    /// Authorize parameters for the login page (`login_hint`, `prompt`, `org` + `provider`, ...), checked by
    /// [`crate::AuthorizeRequest::param`]; a refused one fails the login with its reason.
    pub params: Vec<(String, String)>,
}

/// What an API call in progress is doing.
#[derive(Debug)]
struct Call {
    waiter: Waiter,
    url: String,
    /// The request on the wire and the token it carries.
    sent: Option<(RequestId, AccessToken)>,
    attempts: u32,
    started_ms: u64,
    retry_at: Option<u64>,
    /// A 401 was answered by a refresh already: a second 401 ends the session.
    refreshed: bool,
}

/// Who waits for a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Token(Waiter),
    Refresh(Waiter),
    Call(Waiter),
}

/// One request and its retries.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    id: RequestId,
    attempts: u32,
    started_ms: u64,
    retry_at: Option<u64>,
}

#[derive(Debug)]
enum RefreshState {
    Idle,
    /// Waiting for the shared lock; `seen` is the token the refresh is meant to replace.
    Locking {
        seen: Option<AccessToken>,
    },
    Running {
        attempt: Attempt,
        locked: bool,
    },
    /// Another tab announced tokens that this tab's storage did not show under the lock yet: they are awaited
    /// (until [`ANNOUNCED_WAIT_MS`] after the announcement) instead of spending the refresh token a second time.
    Awaiting,
}

#[derive(Debug)]
enum Login {
    /// The code is being exchanged.
    Exchange { waiter: Waiter, request: TokenRequest, attempt: Attempt, return_to: Option<String> },
    /// A popup is open for this pending login.
    Popup { waiter: Waiter, pending: PendingLogin, deadline_ms: u64 },
}

/// Callers parked while the page navigates to the login page; failed with `error` if it is still here later.
#[derive(Debug)]
struct Navigating {
    waiters: Vec<Waiter>,
    error: Error,
    deadline_ms: u64,
}

/// The sign-in state machine of one OAuth client in one tab or process. See the module documentation.
pub struct Session {
    config: Config,
    rng: Box<dyn Rng + Send>,
    tokens: Option<TokenSet>,
    /// The last token write was refused: memory holds tokens the storage does not.
    unsaved: bool,
    /// The storage-failure report was made (once per session).
    reported_store_failure: bool,
    discarded: Option<Error>,
    relogin_at_ms: Option<u64>,
    /// When the last background refresh started ([`Config::keep_fresh`]).
    background_ms: Option<u64>,
    /// When another tab announced new tokens that this tab's storage did not show yet.
    announced_ms: Option<u64>,
    here: Option<String>,
    refresh: RefreshState,
    refresh_waiters: Vec<Want>,
    calls: Vec<Call>,
    login: Option<Login>,
    navigating: Option<Navigating>,
    revoking: Option<(RequestId, Waiter, Option<String>)>,
    next_id: RequestId,
    /// In order; few at a time, so taken from the front of a plain vector.
    actions: Vec<Action>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("client_id", &self.config.client.client_id())
            .field("signed_in", &self.tokens.is_some())
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session from what the driver found in storage: the stored token set (untrusted: anything unreadable,
    /// expired without a refresh token, or stored for another region or client is discarded and reported by
    /// [`Session::discarded`]) and the time of the last automatic sign-in.
    pub fn new(
        config: Config,
        stored_tokens: Option<&str>,
        relogin_at: Option<&str>,
        now_ms: u64,
        rng: Box<dyn Rng + Send>,
    ) -> Session {
        let mut session = Session {
            config,
            rng,
            tokens: None,
            unsaved: false,
            reported_store_failure: false,
            discarded: None,
            relogin_at_ms: relogin_at.and_then(crate::parse_decimal),
            background_ms: None,
            announced_ms: None,
            here: None,
            refresh: RefreshState::Idle,
            refresh_waiters: Vec::new(),
            calls: Vec::new(),
            login: None,
            navigating: None,
            revoking: None,
            next_id: 1,
            actions: Vec::new(),
        };
        if let Some(text) = stored_tokens {
            match TokenSet::from_storage_for(text, &session.config.client) {
                Ok(t) if t.remaining_ms(now_ms) > 0 || t.refresh.is_some() => session.tokens = Some(t),
                Ok(_) => session.push(Action::Remove { slot: Slot::Tokens }),
                Err(e) => {
                    session.push(Action::Remove { slot: Slot::Tokens });
                    session.discarded = Some(e);
                }
            }
        }
        session
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True while tokens are held.
    pub fn is_authenticated(&self) -> bool {
        self.tokens.is_some()
    }

    /// When the access token expires (epoch ms), while signed in.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.tokens.as_ref().map(|t| t.expires_at_ms)
    }

    /// True while a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.tokens.as_ref().is_some_and(|t| t.refresh.is_some())
    }

    /// Why stored tokens were discarded when the session was created, if they were.
    pub fn discarded(&self) -> Option<&Error> {
        self.discarded.as_ref()
    }

    /// The page the app is on (`href`): where an automatic sign-in comes back to. Drivers set it before events.
    pub fn set_location(&mut self, href: &str) {
        self.here = crate::return_path(href);
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    /// When [`Session::handle_timeout`] must be called next (epoch ms), if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut at: Option<u64> = None;
        let mut consider = |t: Option<u64>| {
            if let Some(t) = t
                && at.is_none_or(|a| t < a)
            {
                at = Some(t);
            }
        };
        if let RefreshState::Running { attempt, .. } = &self.refresh {
            consider(attempt.retry_at);
        }
        consider(self.awaited_until());
        match &self.login {
            Some(Login::Exchange { attempt, .. }) => consider(attempt.retry_at),
            Some(Login::Popup { deadline_ms, .. }) => consider(Some(*deadline_ms)),
            None => {}
        }
        for c in &self.calls {
            consider(c.retry_at);
        }
        consider(self.navigating.as_ref().map(|n| n.deadline_ms));
        consider(self.background_due());
        at
    }

    /// Turns the background refresh ([`Config::keep_fresh`]) on or off.
    pub fn set_keep_fresh(&mut self, on: bool) {
        self.config.keep_fresh = on;
    }

    /// When a wait for the tokens another tab announced would end ([`ANNOUNCED_WAIT_MS`] after the announcement).
    fn wait_ends(&self) -> Option<u64> {
        self.announced_ms.map(|at| at.saturating_add(ANNOUNCED_WAIT_MS))
    }

    /// When the wait for announced tokens ([`RefreshState::Awaiting`]) ends.
    fn awaited_until(&self) -> Option<u64> {
        let awaiting = matches!(self.refresh, RefreshState::Awaiting);
        awaiting.then(|| self.wait_ends().unwrap_or(0))
    }

    /// The announced tokens did not come as awaited (they never showed, or came expired): the refresh goes on
    /// here, under the lock again.
    fn refresh_after_wait(&mut self, now_ms: u64) {
        self.refresh = RefreshState::Idle;
        self.announced_ms = None;
        self.start_refresh(now_ms);
    }

    /// When the background refresh is due: the refresh skew before expiry, not sooner than
    /// [`KEEP_FRESH_RETRY_MS`] after the last one; never without a refresh token (a session that cannot be
    /// refreshed is not signed in again behind the user's back), nor while a refresh runs.
    fn background_due(&self) -> Option<u64> {
        if !self.config.keep_fresh || !matches!(self.refresh, RefreshState::Idle) || !self.has_refresh_token() {
            return None;
        }
        let ahead = self.tokens.as_ref()?.expires_at_ms.saturating_sub(self.config.refresh_skew_ms);
        Some(self.background_ms.map_or(ahead, |last| ahead.max(last.saturating_add(KEEP_FRESH_RETRY_MS))))
    }

    /// A caller wants a valid access token.
    pub fn want_token(&mut self, waiter: Waiter, now_ms: u64) {
        self.want(Want::Token(waiter), now_ms);
    }

    /// A caller wants a refresh now (joins one in flight).
    pub fn want_refresh(&mut self, waiter: Waiter, now_ms: u64) {
        if self.tokens.is_none() {
            return self.resolve_one(waiter, Err(Error::LoginRequired));
        }
        self.refresh_waiters.push(Want::Refresh(waiter));
        self.start_refresh(now_ms);
    }

    /// A caller wants an authorized API request to `path_or_url` (a path on, or a URL of, the region's API
    /// origin: the token goes nowhere else). The driver keeps the caller's method, headers and body.
    pub fn fetch(&mut self, waiter: Waiter, path_or_url: &str, now_ms: u64) {
        match self.config.client.region().api_url(path_or_url) {
            Err(e) => self.resolve_one(waiter, Err(e)),
            Ok(url) => {
                self.calls.push(Call {
                    waiter,
                    url,
                    sent: None,
                    attempts: 0,
                    started_ms: now_ms,
                    retry_at: None,
                    refreshed: false,
                });
                self.want(Want::Call(waiter), now_ms);
            }
        }
    }

    /// Starts a login: a redirect (the pending login parked in [`Slot::Pending`]) or, inside a frame or when
    /// asked, a popup.
    pub fn login(&mut self, waiter: Waiter, options: &LoginOptions, now_ms: u64) {
        let popup = options.popup.unwrap_or(self.config.framed);
        if popup && !self.config.popup_capable {
            return self.resolve_one(waiter, Err(crate::error::NO_POPUP_CHANNEL));
        }
        let built =
            self.authorize(options.return_to.as_deref(), options.redirect_uri.as_deref(), &options.params, now_ms);
        let (url, pending) = match built {
            Ok(b) => b,
            Err(e) => return self.resolve_one(waiter, Err(e)),
        };
        if popup {
            if let Some(Login::Popup { waiter: old, .. }) = self.login.take() {
                self.push(Action::ClosePopup);
                self.resolve_one(old, Err(Error::PopupClosed));
            }
            let state = pending.state().secret().to_string();
            let deadline_ms = now_ms.saturating_add(options.timeout_ms.unwrap_or(300_000));
            self.login = Some(Login::Popup { waiter, pending, deadline_ms });
            self.push(Action::OpenPopup { url, state });
        } else {
            self.push(Action::Store { slot: Slot::Pending, text: StoredText::new(pending.to_storage()) });
            self.push(Action::Navigate { url });
            self.push(Action::Resolve { waiters: vec![waiter], outcome: Ok(Outcome::Navigating) });
        }
    }

    /// The browser blocked the popup.
    pub fn popup_blocked(&mut self) {
        if let Some(Login::Popup { waiter, .. }) = self.login.take() {
            self.resolve_one(waiter, Err(Error::PopupBlocked));
        }
    }

    /// The user closed the popup (and no callback came before).
    pub fn popup_closed(&mut self) {
        if let Some(Login::Popup { waiter, .. }) = self.login.take() {
            self.push(Action::ClosePopup);
            self.resolve_one(waiter, Err(Error::PopupClosed));
        }
    }

    /// A callback URL arrived from the popup (or the loopback listener). Returns false when it is not the callback
    /// of the login in progress (another `state`, or no login): it is ignored and the login goes on waiting.
    pub fn popup_callback(&mut self, url: &str, now_ms: u64) -> bool {
        let Some(Login::Popup { pending, .. }) = &self.login else { return false };
        let ours = Callback::parse(url).ok().and_then(|c| c.state().map(|s| s == pending.state()));
        if ours != Some(true) {
            return false;
        }
        let Some(Login::Popup { waiter, pending, .. }) = self.login.take() else { return false };
        self.push(Action::ClosePopup);
        self.complete_login(waiter, Ok(pending), url, now_ms);
        true
    }

    /// The page loaded at `url` (maybe a redirect callback), with the pending login read from [`Slot::Pending`].
    /// The callback is removed from the address bar and the pending login used once, whatever happens.
    pub fn callback(&mut self, waiter: Waiter, url: &str, pending: Option<&str>, now_ms: u64) {
        if !Callback::is_callback(url) {
            return self.resolve_one(waiter, Ok(Outcome::NoCallback));
        }
        self.push(Action::ReplaceAddress { url: without_callback(url) });
        self.push(Action::Remove { slot: Slot::Pending });
        let client = &self.config.client;
        let pending = pending.ok_or(Error::NoPendingLogin).and_then(|text| {
            let pending = PendingLogin::from_storage(text)?;
            pending.check_client(client).map(|()| pending)
        });
        self.complete_login(waiter, pending, url, now_ms);
    }

    /// Checks the callback `url` against `pending` and exchanges its code, or fails `waiter`.
    fn complete_login(&mut self, waiter: Waiter, pending: Result<PendingLogin, Error>, url: &str, now_ms: u64) {
        let started = pending.and_then(|p| {
            let return_to = p.return_to().map(str::to_string);
            Ok((p.complete(url, now_ms)?, return_to))
        });
        match started {
            Ok((request, return_to)) => self.exchange(waiter, request, return_to, now_ms),
            Err(e) => self.resolve_one(waiter, Err(e)),
        }
    }

    /// The lock asked for with [`Action::Lock`] is held; `stored` is the token text read under it.
    pub fn lock_granted(&mut self, stored: Option<&str>, now_ms: u64) {
        let RefreshState::Locking { seen } = core::mem::replace(&mut self.refresh, RefreshState::Idle) else {
            self.push(Action::Unlock);
            return;
        };
        match stored.map(|t| TokenSet::from_storage_for(t, &self.config.client)) {
            Some(Ok(t)) if Some(&t.access) != seen.as_ref() => {
                if t.remaining_ms(now_ms) > 0 {
                    // Another tab or process refreshed while this one waited: its tokens are the session now.
                    self.tokens = Some(t);
                    self.unsaved = false;
                    self.push(Action::Unlock);
                    self.push(Action::Changed);
                    return self.refresh_done();
                }
                // An expired set written later than ours holds the newest rotation of the refresh token.
                if self.tokens.as_ref().is_none_or(|m| t.expires_at_ms >= m.expires_at_ms) {
                    self.tokens = Some(t);
                }
            }
            Some(Ok(_)) if self.wait_ends().is_some_and(|end| now_ms < end) => {
                // Another tab announced new tokens, but this tab's view of the shared storage does not show them
                // yet (a browser's other processes may see a write late): they are awaited, not refreshed again.
                self.push(Action::Unlock);
                self.refresh = RefreshState::Awaiting;
                return;
            }
            None if !self.unsaved => {
                // Signed out elsewhere while this one waited.
                self.tokens = None;
                self.push(Action::Unlock);
                self.push(Action::Changed);
                let waiters = core::mem::take(&mut self.refresh_waiters);
                return self.fail_or_relogin(waiters, Error::LoginRequired, now_ms);
            }
            Some(Err(e)) => {
                self.push(Action::Report(e));
            }
            _ => {}
        }
        self.send_refresh(true, now_ms);
    }

    /// Another tab announced new tokens or a logout (`stored`: what this tab's storage holds now; `None` for a
    /// logout). Its storage may not show new tokens yet: then they are awaited by a refresh that would otherwise
    /// spend the refresh token again.
    pub fn tokens_announced(&mut self, stored: Option<&str>, now_ms: u64) {
        // A further announcement while the tokens are awaited does not prolong the wait.
        let awaiting = matches!(self.refresh, RefreshState::Awaiting);
        if !self.take_stored(stored, now_ms) && self.tokens.is_some() && !awaiting {
            self.announced_ms = Some(now_ms);
        }
    }

    /// Another tab or process changed the stored tokens (`stored`: what storage holds now).
    pub fn stored_changed(&mut self, stored: Option<&str>, now_ms: u64) {
        self.take_stored(stored, now_ms);
    }

    /// Takes what storage holds as the session's tokens; whether the access token changed.
    fn take_stored(&mut self, stored: Option<&str>, now_ms: u64) -> bool {
        let before = self.tokens.as_ref().map(|t| t.access.clone());
        match stored.map(|t| TokenSet::from_storage_for(t, &self.config.client)) {
            Some(Ok(t)) => self.tokens = Some(t),
            Some(Err(e)) => {
                self.tokens = None;
                self.push(Action::Report(e));
            }
            None => self.tokens = None,
        }
        self.unsaved = false;
        if before == self.tokens.as_ref().map(|t| t.access.clone()) {
            return false;
        }
        self.announced_ms = None;
        self.push(Action::Changed);
        if matches!(self.refresh, RefreshState::Awaiting) {
            // What was awaited: fresh tokens go to the waiters; anything else is refreshed here after all.
            if self.tokens.as_ref().is_some_and(|t| t.remaining_ms(now_ms) > 0) {
                self.refresh_done();
            } else {
                self.refresh_after_wait(now_ms);
            }
        }
        true
    }

    /// A [`Action::Store`] was refused (quota, privacy mode): `detail` is what the platform said.
    pub fn store_failed(&mut self, slot: Slot, detail: &str) {
        let error = Error::StorageUnavailable { detail: crate::error::clean(detail, 200) };
        match slot {
            Slot::Tokens => {
                // Memory still holds the session; the app hears about it once.
                self.unsaved = true;
                if !self.reported_store_failure {
                    self.reported_store_failure = true;
                    let error = self.redacted(error);
                    self.push(Action::Report(error));
                }
            }
            Slot::Pending | Slot::Relogin => {
                // Without the pending login (or the loop guard) the navigation must not happen.
                let mut stopped: Vec<Waiter> = Vec::new();
                self.actions.retain(|a| match a {
                    Action::Navigate { .. } => false,
                    Action::Resolve { waiters, outcome: Ok(Outcome::Navigating) } => {
                        stopped.extend(waiters);
                        false
                    }
                    _ => true,
                });
                if let Some(n) = self.navigating.take() {
                    stopped.extend(n.waiters);
                }
                self.resolve(stopped, Err(error));
            }
        }
    }

    /// An HTTP request asked for with [`Action::Send`] ended.
    pub fn answer(&mut self, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        if matches!(&self.refresh, RefreshState::Running { attempt, .. } if attempt.id == id) {
            self.refresh_answer(reply, now_ms);
        } else if matches!(&self.login, Some(Login::Exchange { attempt, .. }) if attempt.id == id) {
            self.exchange_answer(reply, now_ms);
        } else if let Some(i) = self.calls.iter().position(|c| c.sent.as_ref().is_some_and(|(r, _)| *r == id)) {
            self.call_answer(i, id, reply, now_ms);
        } else if self.revoking.as_ref().is_some_and(|(r, ..)| *r == id)
            && let Some((_, waiter, sso)) = self.revoking.take()
        {
            self.signed_out(waiter, sso.as_deref());
        }
    }

    /// Signs out: revokes the token (one attempt, best effort), forgets the session in memory and storage, and
    /// with `sso_return` ends the Genesys login session too (navigating to `login.<env>/logout`).
    pub fn logout(&mut self, waiter: Waiter, sso_return: Option<&str>, _now_ms: u64) {
        let token = self.tokens.as_ref().map(|t| t.access.clone());
        self.clear_tokens();
        self.push(Action::Remove { slot: Slot::Pending });
        let waiting = core::mem::take(&mut self.refresh_waiters);
        self.fail_wants(waiting, Error::LoginRequired);
        let revoke = token.zip(self.config.client.region().api_url("/api/v2/tokens/me").ok());
        match revoke {
            Some((token, url)) => {
                let id = self.id();
                self.revoking = Some((id, waiter, sso_return.map(str::to_string)));
                self.push(Action::Send(Request::Revoke { id, url, token }));
            }
            None => self.signed_out(waiter, sso_return),
        }
    }

    /// Time passed: retries whose pause is over are sent, a popup past its deadline is given up, a background
    /// refresh that is due starts.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let due = |at: Option<u64>| at.is_some_and(|t| t <= now_ms);
        if due(self.background_due()) {
            self.background_ms = Some(now_ms);
            self.start_refresh(now_ms);
        }
        if due(self.awaited_until()) {
            self.refresh_after_wait(now_ms);
        }
        // A token request whose pause is over goes again, under a new id.
        for spends_code in [false, true] {
            if !self.token_attempt(spends_code).is_some_and(|a| due(a.retry_at)) {
                continue;
            }
            let id = self.id();
            if let Some(a) = self.token_attempt(spends_code) {
                (a.retry_at, a.attempts, a.id) = (None, a.attempts + 1, id);
            }
            match &self.login {
                Some(Login::Exchange { request, .. }) if spends_code => {
                    let request = request.again();
                    self.push(Action::Send(Request::Token { id, request }));
                }
                _ => self.send_refresh_request(id),
            }
        }
        if matches!(&self.login, Some(Login::Popup { deadline_ms, .. }) if *deadline_ms <= now_ms)
            && let Some(Login::Popup { waiter, .. }) = self.login.take()
        {
            self.push(Action::ClosePopup);
            self.resolve_one(waiter, Err(Error::PopupTimeout));
        }
        let calls: Vec<Waiter> = self.calls.iter().filter(|c| due(c.retry_at)).map(|c| c.waiter).collect();
        for waiter in calls {
            if let Some(c) = self.calls.iter_mut().find(|c| c.waiter == waiter) {
                c.retry_at = None;
            }
            self.want(Want::Call(waiter), now_ms);
        }
        if self.navigating.as_ref().is_some_and(|n| n.deadline_ms <= now_ms)
            && let Some(n) = self.navigating.take()
        {
            self.resolve(n.waiters, Err(n.error));
        }
    }

    // ----- internals -----

    fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    fn id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Ends one caller's wait (one copy of the code for the many places that do).
    #[inline(never)]
    fn resolve_one(&mut self, waiter: Waiter, outcome: Result<Outcome, Error>) {
        self.resolve(vec![waiter], outcome);
    }

    fn resolve(&mut self, waiters: Vec<Waiter>, outcome: Result<Outcome, Error>) {
        if !waiters.is_empty() {
            let outcome = outcome.map_err(|e| self.redacted(e));
            self.push(Action::Resolve { waiters, outcome });
        }
    }

    /// `error` without the token values this session holds, wherever server or platform text could carry them
    /// (short tokens escape the pattern-based redaction of bodies; these are removed by value).
    fn redacted(&self, mut error: Error) -> Error {
        let text = match &mut error {
            Error::Malformed { body, .. } => Some(body),
            Error::Network { detail } | Error::StorageUnavailable { detail } => Some(detail),
            Error::OAuth { description: Some(d), .. } | Error::Authorization { description: Some(d), .. } => Some(d),
            _ => None,
        };
        if let (Some(text), Some(t)) = (text, &self.tokens) {
            for value in [Some(t.access.secret()), t.refresh.as_ref().map(|r| r.secret())].into_iter().flatten() {
                if !value.is_empty() {
                    *text = crate::error::redact_value(text, value);
                }
            }
        }
        error
    }

    fn random(&mut self) -> u32 {
        let mut b = [0u8; 4];
        let _ = self.rng.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn authorize(
        &mut self,
        return_to: Option<&str>,
        redirect_uri: Option<&str>,
        params: &[(String, String)],
        now_ms: u64,
    ) -> Result<(String, PendingLogin), Error> {
        let mut request = self.config.client.authorize().params(params)?;
        if let Some(scope) = &self.config.scope {
            request = request.scope(scope);
        }
        if let Some(path) = return_to {
            request = request.return_to(path);
        }
        if let Some(uri) = redirect_uri {
            request = request.redirect_uri(uri);
        }
        request.build(&mut *self.rng, now_ms)
    }

    /// Give `want` a token now, or join (and start) the refresh.
    fn want(&mut self, want: Want, now_ms: u64) {
        let Some(tokens) = &self.tokens else {
            return self.fail_wants(vec![want], Error::LoginRequired);
        };
        if !tokens.needs_refresh(now_ms, self.config.refresh_skew_ms) {
            let token = tokens.access.clone();
            return self.give(want, token);
        }
        self.refresh_waiters.push(want);
        self.start_refresh(now_ms);
    }

    fn give(&mut self, want: Want, token: AccessToken) {
        match want {
            Want::Token(w) => self.resolve_one(w, Ok(Outcome::Token(token))),
            Want::Refresh(w) => self.resolve_one(w, Ok(Outcome::Refreshed)),
            Want::Call(w) => self.send_call(w, token),
        }
    }

    fn fail_wants(&mut self, wants: Vec<Want>, error: Error) {
        let waiters = self.take_waiters(wants);
        self.resolve(waiters, Err(error));
    }

    /// The callers behind `wants`, their API calls (if any) given up.
    fn take_waiters(&mut self, wants: Vec<Want>) -> Vec<Waiter> {
        let waiters: Vec<Waiter> =
            wants.into_iter().map(|(Want::Token(w) | Want::Refresh(w) | Want::Call(w))| w).collect();
        self.calls.retain(|c| !waiters.contains(&c.waiter));
        waiters
    }

    fn start_refresh(&mut self, now_ms: u64) {
        if !matches!(self.refresh, RefreshState::Idle) {
            return; // one refresh in flight, however many wait
        }
        if self.config.persistence == Persistence::Shared {
            // The token this refresh replaces, taken now: another tab's new token must not be refreshed again.
            let seen = self.tokens.as_ref().map(|t| t.access.clone());
            self.refresh = RefreshState::Locking { seen };
            self.push(Action::Lock);
        } else {
            self.send_refresh(false, now_ms);
        }
    }

    fn send_refresh(&mut self, locked: bool, now_ms: u64) {
        if !self.has_refresh_token() {
            return self.refresh_failed(Error::LoginRequired, locked, now_ms);
        }
        let id = self.id();
        self.refresh =
            RefreshState::Running { attempt: Attempt { id, attempts: 1, started_ms: now_ms, retry_at: None }, locked };
        self.send_refresh_request(id);
    }

    fn send_refresh_request(&mut self, id: RequestId) {
        let request = match self.tokens.as_ref().and_then(|t| t.refresh.as_ref()) {
            Some(r) => TokenRequest::refresh(&self.config.client, r),
            None => return,
        };
        self.push(Action::Send(Request::Token { id, request }));
    }

    fn retry_delay(&mut self, reply: &Reply<'_>, spends_code: bool, attempt: &Attempt, now_ms: u64) -> Option<u64> {
        let failure = match reply {
            Reply::Http { status, retry_after, .. } => Failure::Status { status: *status, retry_after: *retry_after },
            Reply::Network { .. } => Failure::Network,
        };
        let random = self.random();
        let elapsed = now_ms.saturating_sub(attempt.started_ms);
        self.config.retry.decide(failure, spends_code, attempt.attempts, elapsed, random, now_ms)
    }

    /// Parses a token endpoint answer; `None` when the body must be read first.
    fn token_result(&mut self, id: RequestId, reply: &Reply<'_>, now_ms: u64) -> Option<Result<TokenSet, Error>> {
        match *reply {
            Reply::Network { detail } => Some(Err(Error::Network { detail: crate::error::clean(detail, 200) })),
            Reply::Http { body: None, .. } => {
                self.push(Action::ReadBody { request: id });
                None
            }
            Reply::Http { status, retry_after, body: Some(body) } => {
                Some(parse_token_response(status, retry_after, body, now_ms))
            }
        }
    }

    /// The token request in progress: the code exchange (`spends_code`) or the refresh.
    fn token_attempt(&mut self, spends_code: bool) -> Option<&mut Attempt> {
        match (spends_code, &mut self.refresh, &mut self.login) {
            (false, RefreshState::Running { attempt, .. }, _) => Some(attempt),
            (true, _, Some(Login::Exchange { attempt, .. })) => Some(attempt),
            _ => None,
        }
    }

    /// Schedules the retry of the token request in progress if the policy allows one.
    fn schedule_retry(&mut self, reply: &Reply<'_>, spends_code: bool, url: String, now_ms: u64) -> bool {
        let Some(attempt) = self.token_attempt(spends_code).map(|a| *a) else { return false };
        let Some(delay_ms) = self.retry_delay(reply, spends_code, &attempt, now_ms) else { return false };
        if let Some(a) = self.token_attempt(spends_code) {
            a.retry_at = Some(now_ms.saturating_add(delay_ms));
        }
        let status = status_of(reply);
        self.push(Action::Retrying(RetryNotice { url, attempt: attempt.attempts, status, delay_ms }));
        true
    }

    fn refresh_answer(&mut self, reply: Reply<'_>, now_ms: u64) {
        let RefreshState::Running { attempt, .. } = &self.refresh else { return };
        let id = attempt.id;
        let Some(result) = self.token_result(id, &reply, now_ms) else { return };
        let locked = matches!(self.refresh, RefreshState::Running { locked: true, .. });
        match result {
            Ok(tokens) => {
                self.set_tokens(tokens);
                if locked {
                    self.push(Action::Unlock);
                }
                self.refresh_done();
            }
            Err(e) => {
                if !self.schedule_retry(&reply, false, self.config.client.token_url(), now_ms) {
                    self.refresh_failed(e, locked, now_ms);
                }
            }
        }
    }

    /// The refresh succeeded (here or in another tab): every waiter gets the new token.
    fn refresh_done(&mut self) {
        self.refresh = RefreshState::Idle;
        let Some(token) = self.tokens.as_ref().map(|t| t.access.clone()) else { return };
        for want in core::mem::take(&mut self.refresh_waiters) {
            self.give(want, token.clone());
        }
    }

    fn refresh_failed(&mut self, error: Error, locked: bool, now_ms: u64) {
        if locked {
            self.push(Action::Unlock);
        }
        self.refresh = RefreshState::Idle;
        let waiters = core::mem::take(&mut self.refresh_waiters);
        let refused = error.refresh_refused() || error == Error::LoginRequired;
        if refused && let Some(t) = &mut self.tokens {
            // A refused refresh token is never sent again, here or (through storage) in another tab.
            if t.refresh.take().is_some() && self.config.persistence != Persistence::Memory {
                let text = t.to_storage_for(&self.config.client);
                self.push(Action::Store { slot: Slot::Tokens, text: StoredText::new(text) });
            }
        }
        let error = if refused { Error::LoginRequired } else { error };
        let valid = self.tokens.as_ref().filter(|t| t.remaining_ms(now_ms) > 0).map(|t| t.access.clone());
        if let Some(token) = valid {
            // Still valid: calls go on with it until it expires; only an explicit refresh hears of the failure.
            let (refreshes, others): (Vec<Want>, Vec<Want>) =
                waiters.into_iter().partition(|w| matches!(w, Want::Refresh(_)));
            self.fail_wants(refreshes, error);
            for want in others {
                self.give(want, token.clone());
            }
        } else if refused {
            self.clear_tokens();
            self.fail_or_relogin(waiters, Error::LoginRequired, now_ms);
        } else {
            // A transient failure: the session stays; the callers hear why.
            self.fail_wants(waiters, error);
        }
    }

    /// The session is over for `wants`: sign in again by redirect when allowed, else fail them with `error`.
    fn fail_or_relogin(&mut self, wants: Vec<Want>, error: Error, now_ms: u64) {
        if wants.is_empty() {
            return;
        }
        let ends_session = matches!(error, Error::LoginRequired | Error::Unauthorized { .. });
        // In a frame the login page cannot load (and a popup needs a click): the app must call login() itself.
        if !ends_session || !self.config.relogin || self.config.framed {
            return self.fail_wants(wants, error);
        }
        let last = self.relogin_at_ms.map(crate::decimal);
        if !crate::relogin_allowed(last.as_deref(), now_ms) {
            return self.fail_wants(wants, Error::ReloginLoop);
        }
        let here = self.here.clone();
        let (url, pending) = match self.authorize(here.as_deref(), None, &[], now_ms) {
            Ok(b) => b,
            Err(e) => return self.fail_wants(wants, e),
        };
        self.relogin_at_ms = Some(now_ms);
        self.push(Action::Store { slot: Slot::Relogin, text: StoredText::new(crate::decimal(now_ms)) });
        self.push(Action::Store { slot: Slot::Pending, text: StoredText::new(pending.to_storage()) });
        self.push(Action::Navigate { url });
        let waiters = self.take_waiters(wants);
        let deadline_ms = now_ms.saturating_add(NAVIGATION_GRACE_MS);
        match &mut self.navigating {
            Some(n) => n.waiters.extend(waiters),
            None => self.navigating = Some(Navigating { waiters, error, deadline_ms }),
        }
    }

    fn exchange(&mut self, waiter: Waiter, request: TokenRequest, return_to: Option<String>, now_ms: u64) {
        let id = self.id();
        let again = request.again();
        self.login = Some(Login::Exchange {
            waiter,
            request,
            attempt: Attempt { id, attempts: 1, started_ms: now_ms, retry_at: None },
            return_to,
        });
        self.push(Action::Send(Request::Token { id, request: again }));
    }

    fn exchange_answer(&mut self, reply: Reply<'_>, now_ms: u64) {
        let Some(Login::Exchange { attempt, .. }) = &self.login else { return };
        let id = attempt.id;
        let Some(result) = self.token_result(id, &reply, now_ms) else { return };
        match result {
            Ok(tokens) => {
                let Some(Login::Exchange { waiter, return_to, .. }) = self.login.take() else { return };
                self.set_tokens(tokens);
                if let Some(path) = &return_to {
                    self.push(Action::ReplaceAddress { url: path.clone() });
                }
                self.resolve_one(waiter, Ok(Outcome::SignedIn { return_to }));
            }
            // A spent code is retried only when the server said it did not process it (429).
            Err(e) => {
                if !self.schedule_retry(&reply, true, self.config.client.token_url(), now_ms)
                    && let Some(Login::Exchange { waiter, .. }) = self.login.take()
                {
                    self.resolve_one(waiter, Err(e));
                }
            }
        }
    }

    fn send_call(&mut self, waiter: Waiter, token: AccessToken) {
        let id = self.id();
        let Some(call) = self.calls.iter_mut().find(|c| c.waiter == waiter) else { return };
        call.attempts += 1;
        call.sent = Some((id, token.clone()));
        let url = call.url.clone();
        self.push(Action::Send(Request::Api { id, waiter, url, token }));
    }

    fn call_answer(&mut self, index: usize, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        let waiter = self.calls[index].waiter;
        let status = status_of(&reply);
        if status == 401 && !self.calls[index].refreshed && self.has_refresh_token() {
            // Refused before its time (revoked, idle timeout): one refresh, then one more try.
            self.calls[index].refreshed = true;
            let used = self.calls[index].sent.take().map(|(_, t)| t);
            if let Some(t) = &mut self.tokens
                && used.as_ref() == Some(&t.access)
            {
                t.expires_at_ms = t.expires_at_ms.min(now_ms);
            }
            self.refresh_waiters.push(Want::Call(waiter));
            return self.start_refresh(now_ms);
        }
        if status == 401 {
            let Reply::Http { body: Some(body), retry_after, .. } = reply else {
                return self.push(Action::ReadBody { request: id });
            };
            let error = api_error(401, retry_after, body, now_ms);
            let call = self.calls.remove(index);
            // The session ends, unless another tab or refresh already replaced the refused token.
            let current = self.tokens.as_ref().map(|t| &t.access);
            if current.is_some() && current == call.sent.as_ref().map(|(_, t)| t) {
                self.clear_tokens();
            }
            return self.fail_or_relogin(vec![Want::Call(waiter)], error, now_ms);
        }
        let call = &self.calls[index];
        let attempt = Attempt { id, attempts: call.attempts, started_ms: call.started_ms, retry_at: None };
        let url = call.url.clone();
        if let Some(delay_ms) = self.retry_delay(&reply, false, &attempt, now_ms) {
            self.calls[index].retry_at = Some(now_ms.saturating_add(delay_ms));
            self.calls[index].sent = None;
            self.push(Action::Retrying(RetryNotice { url, attempt: attempt.attempts, status, delay_ms }));
            return;
        }
        self.calls.remove(index);
        match reply {
            Reply::Network { detail } => {
                self.resolve_one(waiter, Err(Error::Network { detail: crate::error::clean(detail, 200) }));
            }
            Reply::Http { status, retry_after, .. } if status == 429 || status >= 500 => {
                self.resolve_one(waiter, Err(api_error(status, retry_after, &[], now_ms)));
            }
            Reply::Http { .. } => self.resolve_one(waiter, Ok(Outcome::Response { request: id })),
        }
    }

    /// Keeps `tokens`: memory, storage when configured, other tabs told.
    fn set_tokens(&mut self, tokens: TokenSet) {
        if self.config.persistence != Persistence::Memory {
            let text = tokens.to_storage_for(&self.config.client);
            self.push(Action::Store { slot: Slot::Tokens, text: StoredText::new(text) });
        }
        self.unsaved = false;
        self.tokens = Some(tokens);
        if self.config.persistence == Persistence::Shared {
            self.push(Action::Announce(Announcement::Tokens));
        }
        self.push(Action::Changed);
    }

    fn clear_tokens(&mut self) {
        let had = self.tokens.take().is_some();
        self.unsaved = false;
        if self.config.persistence != Persistence::Memory {
            self.push(Action::Remove { slot: Slot::Tokens });
        }
        if self.config.persistence == Persistence::Shared {
            self.push(Action::Announce(Announcement::Logout));
        }
        if had {
            self.push(Action::Changed);
        }
    }

    fn signed_out(&mut self, waiter: Waiter, sso_return: Option<&str>) {
        if let Some(back) = sso_return {
            let url = self.config.client.logout_url(Some(back));
            self.push(Action::Navigate { url });
        }
        self.resolve_one(waiter, Ok(Outcome::SignedOut));
    }
}

fn status_of(reply: &Reply<'_>) -> u16 {
    match reply {
        Reply::Http { status, .. } => *status,
        Reply::Network { .. } => 0,
    }
}
