//! The session machine: every sign-in decision above the protocol steps, made once for every driver.
//!
//! Shaped like quinn-proto's `Connection`: a driver hands [`Session::handle`] one [`Event`] at a time with the time
//! (a caller wants a token, an HTTP answer arrived, the timer fired, the lock was granted, another tab changed the
//! stored tokens, a callback URL, a popup's result) and then drains [`Session::poll_action`] and reads
//! [`Session::poll_timeout`]. The machine never sleeps, locks, stores or sends: it says what to do, and the driver
//! does exactly that. Drivers `match` [`Action`] and [`Request`] exhaustively: a new variant is a change every
//! driver must make.
//!
//! It decides: refresh ahead of expiry; one refresh in flight however many callers wait; the re-check of shared
//! storage after the cross-tab (or cross-process) lock, and that every write of shared tokens happens under it;
//! retries per [`RetryPolicy`](crate::RetryPolicy), never re-sending a spent code; 401 → one refresh → one retry; which errors end the
//! session; silent re-login and its loop guard; popup or redirect inside a frame; which origin may receive the
//! token ([`crate::Region::api_url`]); that stored tokens are bound to the region and client they were issued for;
//! where each stored value lives and under which key; that a failed storage write keeps the session in memory and is
//! reported once; that a refused or impossible refresh never throws away a still-valid access token; and that a
//! sign-out sticks: it ends the session's *epoch* (answers to earlier work are discarded, late tokens revoked) and
//! nothing signs in again until the app asks.
//!
//! The machine is split by concern: its contract with the drivers (`contract.rs`), the refresh and the lock
//! (`refresh.rs`), the login (`login.rs`), the app's API calls (`calls.rs`), and storage, other tabs and the
//! sign-out (`storage.rs`).
//!
//! ```
//! use genesys_auth::session::{Action, Config, Event, Outcome, Request, Session};
//! use genesys_auth::{Client, OsRng, Region};
//!
//! let client = Client::new(Region::custom("http://127.0.0.1:8080").unwrap(), "cid", "http://localhost:3000/").unwrap();
//! let now = 1_700_000_000_000;
//! let mut session = Session::new(Config::new(client), Box::new(OsRng));
//! session.handle(Event::WantToken { waiter: 1 }, now); // no session yet
//! match session.poll_action() {
//!     Some(Action::Resolve { waiters, outcome: Err(e) }) => assert_eq!((waiters, e.code()), (vec![1], "login_required")),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod calls;
mod contract;
mod login;
mod refresh;
mod storage;

pub use contract::{
    Action, Announcement, Area, Config, Event, LoginOptions, Outcome, Persistence, Place, Reply, Request, Restored,
    RetryNotice, Slot,
};

use crate::{AccessToken, Error, PendingLogin, Rng, TokenRequest, TokenSet};

/// A caller waiting for an answer, numbered by the driver (each driver call that awaits gets its own).
pub type Waiter = u64;

/// An HTTP request the machine asked for, numbered by the machine.
pub type RequestId = u64;

/// How long a page that is navigating to the login page keeps its callers waiting before failing them: if it is
/// still here by then, something stopped the navigation.
pub const NAVIGATION_GRACE_MS: u64 = 10_000;

/// Refresh this long before the access token expires, unless configured otherwise ([`Config::refresh_skew_ms`]).
pub const DEFAULT_REFRESH_SKEW_MS: u64 = 60_000;

/// How long a login waits for its callback (a popup, or the system browser natively) unless told otherwise
/// ([`LoginOptions::timeout_ms`]).
pub const LOGIN_TIMEOUT_MS: u64 = 300_000;

/// A request without an answer this long after it was sent is given up ([`Action::Abort`]) and handled as a network
/// failure (retried where the retry policy allows): one timeout for every driver.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// A background refresh that failed (the token still valid) is tried again after this long at the soonest.
pub const KEEP_FRESH_RETRY_MS: u64 = 30_000;

/// How long a tab waits for new tokens another tab announced ([`Event::Announced`]) but its own view of the
/// shared storage does not show yet, before it refreshes by itself after all. Also how long after an announced
/// logout a removal of the stored tokens counts as that logout.
pub const ANNOUNCED_WAIT_MS: u64 = 1_000;

/// What the shared token slot holds after a sign-out where another tab could otherwise sign in again by itself
/// ([`Config::relogin`]): a mark, not an empty slot, so that every tab — reading storage in whatever order it hears of
/// the change — knows the user signed out rather than that the session ended.
pub const SIGNED_OUT_MARK: &str = "signed-out";

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

/// A write of the shared tokens waiting for the lock (every write of them happens under it).
#[derive(Debug)]
struct SharedWrite {
    /// The text to store, or `None` to remove them.
    text: Option<String>,
    /// What the other tabs are told once it is written.
    announce: Option<Announcement>,
    /// What follows once it is written.
    then: Option<Then>,
}

/// What follows a write of the shared tokens.
#[derive(Debug)]
enum Then {
    /// A sign-in resolves.
    Resolve(Waiter, Outcome),
    /// A sign-out goes on: the token (if any) is revoked, then the caller hears of it (and with `sso`, the
    /// browser goes to the Genesys logout page).
    SignOut { token: Option<AccessToken>, waiter: Waiter, sso: Option<String> },
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
    /// The report that the lock could not be taken was made (once per session).
    reported_lock: bool,
    discarded: Option<Error>,
    relogin_at_ms: Option<u64>,
    /// The user signed out: nothing signs in by itself until the app asks ([`Event::Login`]).
    signed_out: bool,
    /// Token requests of an ended epoch still on the wire: their answers are never kept, their tokens revoked.
    abandoned: Vec<RequestId>,
    /// When the last background refresh started ([`Config::keep_fresh`]).
    background_ms: Option<u64>,
    /// When another tab announced new tokens that this tab's storage did not show yet.
    announced_ms: Option<u64>,
    /// The refresh in progress waited for announced tokens once already: it does not wait again (a stream of
    /// messages cannot keep its callers waiting).
    waited: bool,
    /// When another tab announced a logout that this tab's storage did not show yet.
    logout_announced_ms: Option<u64>,
    here: Option<String>,
    refresh: RefreshState,
    refresh_waiters: Vec<Want>,
    /// A lock asked for and not yet granted.
    lock_asked: bool,
    write: Option<SharedWrite>,
    calls: Vec<Call>,
    login: Option<Login>,
    navigating: Option<Navigating>,
    revoking: Option<(RequestId, Waiter, Option<String>)>,
    next_id: RequestId,
    /// Requests on the wire and when they are given up ([`REQUEST_TIMEOUT_MS`] after they were sent).
    on_wire: Vec<(RequestId, u64)>,
    /// The time of the event being handled.
    now_ms: u64,
    /// In order; few at a time, so taken from the front of a plain vector.
    actions: Vec<Action>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("client_id", &self.config.client.client_id())
            .field("signed_in", &self.tokens.is_some())
            .field("signed_out", &self.signed_out)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A signed-out session; the driver then feeds [`Event::Restored`] with what storage holds.
    pub fn new(config: Config, rng: Box<dyn Rng + Send>) -> Session {
        Session {
            config,
            rng,
            tokens: None,
            unsaved: false,
            reported_store_failure: false,
            reported_lock: false,
            discarded: None,
            relogin_at_ms: None,
            signed_out: false,
            abandoned: Vec::new(),
            background_ms: None,
            announced_ms: None,
            waited: false,
            logout_announced_ms: None,
            here: None,
            refresh: RefreshState::Idle,
            refresh_waiters: Vec::new(),
            lock_asked: false,
            write: None,
            calls: Vec::new(),
            login: None,
            navigating: None,
            revoking: None,
            next_id: 1,
            on_wire: Vec::new(),
            now_ms: 0,
            actions: Vec::new(),
        }
    }

    /// Handles one event at `now_ms` (epoch ms); then drain [`Session::poll_action`] and read
    /// [`Session::poll_timeout`].
    pub fn handle(&mut self, event: Event<'_>, now_ms: u64) {
        self.now_ms = now_ms;
        match event {
            Event::Restored(restored) => self.restored(restored, now_ms),
            Event::Location { href } => self.here = crate::return_path(href),
            Event::KeepFresh { on } => self.config.keep_fresh = on,
            Event::WantToken { waiter } => self.want(Want::Token(waiter), now_ms),
            Event::WantRefresh { waiter } => self.want_refresh(waiter, now_ms),
            Event::Fetch { waiter, path_or_url } => self.fetch(waiter, path_or_url, now_ms),
            Event::Login { waiter, options } => self.login(waiter, &options, now_ms),
            Event::Callback { waiter, url, pending } => self.callback(waiter, url, pending, now_ms),
            Event::PopupCallback { url } => self.popup_callback(url, now_ms),
            Event::PopupClosed => self.popup_closed(),
            Event::PopupBlocked => self.popup_blocked(),
            Event::LockGranted { stored } => self.lock_granted(stored, now_ms),
            Event::LockUnavailable { stored, detail } => {
                // Told once: a browser without Web Locks would say it on every refresh.
                if !core::mem::replace(&mut self.reported_lock, true) {
                    let detail = crate::concat(&[
                        "the lock shared with other tabs or processes could not be taken (",
                        detail,
                        "): going on without it",
                    ]);
                    self.push(Action::Report(Error::StorageUnavailable { detail: crate::error::clean(&detail, 300) }));
                }
                self.lock_granted(stored, now_ms);
            }
            Event::StoredChanged { stored } => self.stored_changed(stored, now_ms),
            Event::Announced { announcement, stored } => self.announced(announcement, stored, now_ms),
            Event::StoreFailed { slot, detail } => self.store_failed(slot, detail),
            Event::Answer { id, reply } => self.answer(id, reply, now_ms),
            Event::Logout { waiter, sso_return } => self.logout(waiter, sso_return, now_ms),
            Event::Timeout => self.handle_timeout(now_ms),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True while tokens are held.
    pub fn is_authenticated(&self) -> bool {
        self.tokens.is_some()
    }

    /// True after the user signed out (here, in another tab, or before a reload), until the app calls login.
    pub fn is_signed_out(&self) -> bool {
        self.signed_out
    }

    /// Whether an app's guard (React's or Vue's `RequireAuth`, Angular's `authGuard`) may start a login by itself
    /// now: not signed in, not signed out by the user, automatic sign-in allowed and possible (not in a frame),
    /// and its loop guard not tripped.
    pub fn should_auto_login(&self, now_ms: u64) -> bool {
        let last = self.relogin_at_ms.map(crate::decimal);
        self.tokens.is_none()
            && !self.signed_out
            && self.config.relogin
            && !self.config.framed
            && crate::relogin_allowed(last.as_deref(), now_ms)
    }

    /// When the access token expires (epoch ms), while signed in.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.tokens.as_ref().map(|t| t.expires_at_ms)
    }

    /// True while a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.tokens.as_ref().is_some_and(|t| t.refresh.is_some())
    }

    /// Why stored tokens were discarded at start ([`Event::Restored`]), if they were.
    pub fn discarded(&self) -> Option<&Error> {
        self.discarded.as_ref()
    }

    /// Where `slot` is kept, or `None` when it is not stored at all (the tokens with [`Persistence::Memory`]).
    pub fn place(&self, slot: Slot) -> Option<Place> {
        let area = match (slot, self.config.persistence) {
            (Slot::Tokens, Persistence::Memory) => return None,
            (Slot::Tokens, Persistence::Shared) => Area::Shared,
            (Slot::Tokens, Persistence::Private) | (Slot::Pending | Slot::Relogin | Slot::SignedOut, _) => Area::Own,
        };
        Some(Place { area, key: self.key(slot.name()) })
    }

    /// The name of the lock and of the channel shared by the tabs or processes of this OAuth client.
    pub fn shared_name(&self) -> String {
        self.key("shared")
    }

    fn key(&self, what: &str) -> String {
        crate::concat(&["genesys-auth:", self.config.client.client_id(), ":", what])
    }

    /// Whether `url` is the callback of the popup (or loopback) login in progress: its `state` is that login's.
    pub fn is_login_callback(&self, url: &str) -> bool {
        let Some(Login::Popup { pending, .. }) = &self.login else { return false };
        crate::Callback::parse(url).ok().and_then(|c| c.state().map(|s| s == pending.state())) == Some(true)
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    /// When [`Event::Timeout`] is due next (epoch ms), if ever.
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
        consider(self.on_wire.iter().map(|(_, deadline)| *deadline).min());
        at
    }

    /// Time passed: retries whose pause is over are sent, a popup past its deadline is given up, a background
    /// refresh that is due starts.
    fn handle_timeout(&mut self, now_ms: u64) {
        let due = |at: Option<u64>| at.is_some_and(|t| t <= now_ms);
        if due(self.background_due()) {
            self.background_ms = Some(now_ms);
            self.start_refresh(now_ms);
        }
        if due(self.awaited_until()) {
            self.refresh_after_wait(now_ms);
        }
        self.retry_token_requests(now_ms);
        self.popup_timeout(now_ms);
        self.retry_calls(now_ms);
        if self.navigating.as_ref().is_some_and(|n| n.deadline_ms <= now_ms)
            && let Some(n) = self.navigating.take()
        {
            self.resolve(n.waiters, Err(n.error));
        }
        // Requests without an answer in time: dropped, and answered here as the network failure they are.
        while let Some(at) = self.on_wire.iter().position(|(_, deadline)| *deadline <= now_ms) {
            let (id, _) = self.on_wire.swap_remove(at);
            self.push(Action::Abort { request: id });
            self.ended(id, Reply::Network { detail: "no answer within 30 s" }, now_ms);
        }
    }

    // ----- internals shared by the concerns -----

    fn push(&mut self, action: Action) {
        if let Action::Send(Request::Token { id, .. } | Request::Api { id, .. } | Request::Revoke { id, .. }) = &action
        {
            self.on_wire.push((*id, self.now_ms.saturating_add(REQUEST_TIMEOUT_MS)));
        }
        if let Action::ReadBody { request } = &action {
            // Its body is still to come: it is on the wire until then.
            self.on_wire.push((*request, self.now_ms.saturating_add(REQUEST_TIMEOUT_MS)));
        }
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

    /// The error for a caller who finds no session: signed out by the user, or never signed in.
    fn no_session(&self) -> Error {
        if self.signed_out { Error::SignedOut } else { Error::LoginRequired }
    }

    /// An HTTP request ended.
    fn answer(&mut self, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        // Not on the wire (given up, or never sent): nothing to do with it.
        if let Some(at) = self.on_wire.iter().position(|(r, _)| *r == id) {
            self.on_wire.swap_remove(at);
            self.ended(id, reply, now_ms);
        }
    }

    /// Request `id`, on the wire until now, ended with `reply`.
    fn ended(&mut self, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        // A 3xx is never followed: its Location would get the token or the code.
        let reply = match reply {
            Reply::Http { status, .. } if (300..400).contains(&status) => Reply::Redirected { status },
            other => other,
        };
        if matches!(&self.refresh, RefreshState::Running { attempt, .. } if attempt.id == id) {
            self.refresh_answer(reply, now_ms);
        } else if matches!(&self.login, Some(Login::Exchange { attempt, .. }) if attempt.id == id) {
            self.exchange_answer(reply, now_ms);
        } else if let Some(i) = self.calls.iter().position(|c| c.sent.as_ref().is_some_and(|(r, _)| *r == id)) {
            self.call_answer(i, id, reply, now_ms);
        } else if self.revoking.as_ref().is_some_and(|(r, ..)| *r == id)
            && let Some((_, waiter, sso)) = self.revoking.take()
        {
            self.signed_out_done(waiter, sso.as_deref());
        } else if self.abandoned.contains(&id) {
            self.late_answer(id, reply, now_ms);
        }
    }
}

fn status_of(reply: &Reply<'_>) -> u16 {
    match reply {
        Reply::Http { status, .. } | Reply::Redirected { status } => *status,
        Reply::Network { .. } => 0,
    }
}
