//! The contract between the session machine and its drivers, written once: what a driver configures
//! ([`Config`]), the one [`Event`] type it feeds in, the [`Action`]s (and [`Request`]s) it executes, and where stored
//! values live ([`Slot`], [`Place`]). Drivers match [`Action`], [`Request`] and [`Outcome`] exhaustively: none is
//! `#[non_exhaustive]`, so a new variant does not compile until every driver handles it.

#[cfg(doc)]
use super::{ANNOUNCED_WAIT_MS, LOGIN_TIMEOUT_MS, REQUEST_TIMEOUT_MS, Session};
use super::{DEFAULT_REFRESH_SKEW_MS, RequestId, Waiter};
use crate::{AccessToken, Client, Error, RetryPolicy, StoredText, TokenRequest};

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
