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
//! retries per [`RetryPolicy`], never re-sending a spent code; 401 → one refresh → one retry; which errors end the
//! session; silent re-login and its loop guard; popup or redirect inside a frame; which origin may receive the
//! token ([`crate::Region::api_url`]); that stored tokens are bound to the region and client they were issued for;
//! where each stored value lives and under which key; that a failed storage write keeps the session in memory and is
//! reported once; that a refused or impossible refresh never throws away a still-valid access token; and that a
//! sign-out sticks: it ends the session's *epoch* (answers to earlier work are discarded, late tokens revoked) and
//! nothing signs in again until the app asks.
//!
//! The machine is split by concern: the refresh and the lock (`refresh.rs`), the login
//! (`login.rs`), the app's API calls (`calls.rs`), and storage, other tabs and the sign-out (`storage.rs`).
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
mod login;
mod refresh;
mod storage;

use crate::{AccessToken, Client, Error, PendingLogin, RetryPolicy, Rng, StoredText, TokenRequest, TokenSet};

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
    /// for a token, such as the official SDK, or that hold a notifications WebSocket). Also [`Event::KeepFresh`].
    pub keep_fresh: bool,
    /// The driver's memory ends with the caller's command (a CLI process): a sign-in whose tokens could not be
    /// stored is a failure, not a session kept in memory.
    pub memory_ends_with_call: bool,
}

impl Config {
    /// Defaults: memory storage, [`DEFAULT_REFRESH_SKEW_MS`], the default retry policy, automatic re-login, not
    /// framed, popups possible.
    pub fn new(client: Client) -> Self {
        Config {
            client,
            retry: RetryPolicy::default(),
            refresh_skew_ms: DEFAULT_REFRESH_SKEW_MS,
            persistence: Persistence::Memory,
            relogin: true,
            framed: false,
            popup_capable: true,
            scope: None,
            keep_fresh: false,
            memory_ends_with_call: false,
        }
    }
}

/// Which stored value an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The token set, in the storage of [`Config::persistence`].
    Tokens,
    /// The pending login, which must survive the redirect: the tab's own storage.
    Pending,
    /// When the last automatic sign-in happened (the loop guard): the tab's own storage.
    Relogin,
    /// The user signed out (and nothing may sign in by itself): the tab's own storage, so that a reload keeps it.
    SignedOut,
}

impl Slot {
    /// Every slot, in the order of [`Slot::name`]'s list.
    pub const ALL: [Slot; 4] = [Slot::Tokens, Slot::Pending, Slot::Relogin, Slot::SignedOut];

    /// The slot's name in keys and across the wasm boundary.
    pub fn name(self) -> &'static str {
        match self {
            Slot::Tokens => "tokens",
            Slot::Pending => "pending",
            Slot::Relogin => "relogin",
            Slot::SignedOut => "signed-out",
        }
    }
}

/// Which storage holds a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// This tab's or process's own storage (sessionStorage; the process's memory natively).
    Own,
    /// The storage shared with other tabs or processes (localStorage; the token cache file natively).
    Shared,
}

/// Where a slot is kept: the storage and the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Which storage.
    pub area: Area,
    /// The key there (`genesys-auth:<client id>:<slot>`).
    pub key: String,
}

/// What a driver tells other tabs or processes sharing the storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
    /// New tokens are in the shared storage (never on the channel itself).
    Tokens,
    /// The user signed out.
    Logout,
}

/// What the driver found in storage at start, read from the places [`Session::place`] names.
#[derive(Clone, Copy, Debug, Default)]
pub struct Restored<'a> {
    /// The stored token set (untrusted).
    pub tokens: Option<&'a str>,
    /// When the last automatic sign-in happened.
    pub relogin_at: Option<&'a str>,
    /// The signed-out mark.
    pub signed_out: Option<&'a str>,
}

/// A request to send.
#[derive(Debug)]
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
    /// `DELETE /api/v2/tokens/me` with the Bearer token (revocation at logout, or of tokens that came after one;
    /// one attempt).
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
pub enum Action {
    /// Send this request; feed its answer as [`Event::Answer`].
    Send(Request),
    /// Stop waiting for this request (it got no answer within [`REQUEST_TIMEOUT_MS`]) and drop it: its answer, if
    /// one still comes, is not fed.
    Abort {
        /// The request.
        request: RequestId,
    },
    /// The answer of this request is needed with its body: feed it again with the body.
    ReadBody {
        /// The request.
        request: RequestId,
    },
    /// Take the lock shared with other tabs or processes; feed [`Event::LockGranted`] with the stored tokens read
    /// under it (or [`Event::LockUnavailable`] when it cannot be taken).
    Lock {
        /// The lock's name.
        name: String,
    },
    /// Release the lock.
    Unlock,
    /// Write `text` at `place`. A refusal must be fed as [`Event::StoreFailed`] before the next
    /// [`Session::poll_action`].
    Store {
        /// What is written.
        slot: Slot,
        /// Where.
        place: Place,
        /// What (may hold secrets).
        text: StoredText,
    },
    /// Delete what `place` holds.
    Remove {
        /// What is deleted.
        slot: Slot,
        /// Where.
        place: Place,
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
    /// Something the app should know that ends nothing (a storage write refused, stored tokens discarded): hand it
    /// to the app (`onReport` in JS, a warning line in the CLI).
    Report(Error),
}

/// How an HTTP request ended.
#[derive(Clone, Copy, Debug)]
pub enum Reply<'a> {
    /// An answer (a 3xx is taken as [`Reply::Redirected`]).
    Http {
        /// Its status.
        status: u16,
        /// Its `Retry-After` header.
        retry_after: Option<&'a str>,
        /// Its body, if read (the machine asks with [`Action::ReadBody`] when it needs one it was not given).
        body: Option<&'a [u8]>,
    },
    /// The server answered with a redirect, which is not followed (it would carry a token or a code elsewhere).
    Redirected {
        /// Its status, 0 where the platform does not tell (a browser's opaque redirect).
        status: u16,
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
    /// Give up on a popup login after this long (default [`LOGIN_TIMEOUT_MS`]).
    pub timeout_ms: Option<u64>,
    /// Authorize parameters for the login page (`login_hint`, `prompt`, `org` + `provider`, ...), checked by
    /// [`crate::AuthorizeRequest::param`]; a refused one fails the login with its reason.
    pub params: Vec<(String, String)>,
}

/// What happened, for [`Session::handle`].
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// What the driver found in storage at start (read from the places [`Session::place`] names; untrusted:
    /// anything unreadable, expired without a refresh token, or stored for another region or client is discarded
    /// and reported by [`Session::discarded`]).
    Restored(Restored<'a>),
    /// The page the app is on (`href`): where an automatic sign-in comes back to. Drivers send it before a caller's
    /// event.
    Location {
        /// The page's URL.
        href: &'a str,
    },
    /// Turns the background refresh ([`Config::keep_fresh`]) on or off.
    KeepFresh {
        /// On or off.
        on: bool,
    },
    /// A caller wants a valid access token.
    WantToken {
        /// Who.
        waiter: Waiter,
    },
    /// A caller wants a refresh now (joins one in flight).
    WantRefresh {
        /// Who.
        waiter: Waiter,
    },
    /// A caller wants an authorized API request to `path_or_url` (a path on, or a URL of, the region's API origin:
    /// the token goes nowhere else). The driver keeps the caller's method, headers and body.
    Fetch {
        /// Who.
        waiter: Waiter,
        /// The path or URL.
        path_or_url: &'a str,
    },
    /// The app asks to sign in: a redirect (the pending login parked in [`Slot::Pending`]) or, inside a frame or
    /// when asked, a popup. Ends a signed-out state.
    Login {
        /// Who.
        waiter: Waiter,
        /// How.
        options: LoginOptions,
    },
    /// The page loaded at `url` (maybe a redirect callback), with the pending login read from [`Slot::Pending`].
    /// The callback is removed from the address bar and the pending login used once, whatever happens.
    Callback {
        /// Who.
        waiter: Waiter,
        /// The page's URL.
        url: &'a str,
        /// What [`Slot::Pending`] holds.
        pending: Option<&'a str>,
    },
    /// A callback URL arrived from the popup (or the loopback listener); ignored unless it is the callback of the
    /// login in progress (see [`Session::is_login_callback`]).
    PopupCallback {
        /// The callback URL.
        url: &'a str,
    },
    /// The user closed the popup (and no callback came before).
    PopupClosed,
    /// The browser blocked the popup.
    PopupBlocked,
    /// The lock asked for with [`Action::Lock`] is held; `stored` is the token text read under it.
    LockGranted {
        /// What the shared storage holds.
        stored: Option<&'a str>,
    },
    /// The lock asked for cannot be taken (the platform refused it): the machine goes on without it and reports why.
    LockUnavailable {
        /// What the shared storage holds.
        stored: Option<&'a str>,
        /// What the platform said.
        detail: &'a str,
    },
    /// Another tab or process changed the stored tokens (`stored`: what storage holds now).
    StoredChanged {
        /// What the shared storage holds.
        stored: Option<&'a str>,
    },
    /// Another tab announced new tokens or a logout; `stored`: what this tab's storage holds now (the announcement
    /// itself is not trusted: the machine decides from storage).
    Announced {
        /// What was announced.
        announcement: Announcement,
        /// What the shared storage holds.
        stored: Option<&'a str>,
    },
    /// A [`Action::Store`] was refused (quota, privacy mode): `detail` is what the platform said.
    StoreFailed {
        /// What could not be written.
        slot: Slot,
        /// What the platform said.
        detail: &'a str,
    },
    /// An HTTP request asked for with [`Action::Send`] ended.
    Answer {
        /// The request.
        id: RequestId,
        /// How it ended.
        reply: Reply<'a>,
    },
    /// The app signs out: revokes the token (one attempt, best effort), forgets the session in memory and storage,
    /// ends the epoch, and with `sso_return` ends the Genesys login session too (navigating to `login.<env>/logout`).
    Logout {
        /// Who.
        waiter: Waiter,
        /// Where the Genesys logout page sends the browser back, if it is to be ended too.
        sso_return: Option<&'a str>,
    },
    /// Time passed ([`Session::poll_timeout`] is due).
    Timeout,
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
                let detail = crate::concat(&[
                    "the lock shared with other tabs or processes could not be taken (",
                    detail,
                    "): going on without it",
                ]);
                self.push(Action::Report(Error::StorageUnavailable { detail: crate::error::clean(&detail, 300) }));
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
