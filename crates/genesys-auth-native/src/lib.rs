//! # genesys-auth-native
//!
//! Genesys Cloud sign-in for command-line tools and desktop apps (Tauri, CLIs): OAuth 2.0 Authorization Code with
//! PKCE through a loopback redirect (RFC 8252), a token cache per (region, client id), refresh with one refresh
//! at a time across threads and processes, and authorized API requests with the core's retry rules.
//!
//! ```no_run
//! use genesys_auth::Region;
//! use genesys_auth_native::{LoginOptions, Options, Session};
//!
//! # async fn run() -> Result<(), genesys_auth_native::Error> {
//! let session = Session::new(Region::parse("eu_west_1")?, "my-client-id", Options::default())?;
//! session.login(LoginOptions::default()).await?;          // opens the browser, waits for the callback
//! let token = session.access_token().await?;              // refreshed when needed
//! let (status, body) = session.get("/api/v2/users/me").await?;
//! session.logout().await?;
//! # Ok(()) }
//! ```
//!
//! The OAuth client must be a "Code Authorization" client with `http://127.0.0.1/` registered as a redirect URI
//! (without a port: Genesys then accepts any port, as RFC 8252 asks).

pub mod cache;
pub mod loopback;

mod executor;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use genesys_auth::{Client, Region, RetryPolicy};
use tokio::sync::{mpsc, oneshot};

pub use cache::{CacheError, TokenCache};
use executor::{Command, Done};

/// What can go wrong, with an exit code for the CLI.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A protocol, server or network failure (the core's taxonomy).
    Auth(genesys_auth::Error),
    /// The token cache cannot be used.
    Cache(CacheError),
    /// No callback arrived in time.
    Timeout(Duration),
    /// The loopback listener could not be opened.
    Listen(u16, std::io::Error),
}

impl Error {
    /// The CLI's exit code for this error (documented in the README).
    pub fn exit_code(&self) -> u8 {
        use genesys_auth::Error as E;
        match self {
            Error::Auth(
                E::LoginRequired | E::SignedOut | E::NoRefreshToken | E::Unauthorized { .. } | E::ForeignTokens,
            )
            | Error::Cache(CacheError::Unreadable(_)) => 3,
            Error::Auth(
                E::Authorization { .. }
                | E::StateMismatch
                | E::OAuth { .. }
                | E::MissingParameter { .. }
                | E::DuplicateParameter { .. }
                | E::InvalidParameter { .. }
                | E::IssuerMismatch,
            ) => 4,
            Error::Timeout(_) | Error::Auth(E::PopupTimeout) => 5,
            Error::Auth(
                E::Network { .. }
                | E::Redirected { .. }
                | E::Server { .. }
                | E::RateLimited { .. }
                | E::Malformed { .. },
            ) => 6,
            Error::Listen(..) => 7,
            Error::Auth(E::UnknownRegion { .. } | E::InvalidConfig { .. })
            | Error::Cache(CacheError::Unsafe(..) | CacheError::NoDirectory) => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Auth(genesys_auth::Error::LoginRequired) => {
                f.write_str("not signed in, or the session can no longer be refreshed: run `genesys-auth login`")
            }
            Error::Auth(genesys_auth::Error::Unauthorized { code }) => {
                write!(
                    f,
                    "Genesys Cloud refused the token ({code}): it was revoked or timed out; run `genesys-auth login`"
                )
            }
            Error::Auth(e) => e.fmt(f),
            Error::Cache(e) => e.fmt(f),
            Error::Timeout(d) => write!(
                f,
                "no sign-in arrived within {} s: run `genesys-auth login` again (or raise --timeout)",
                d.as_secs()
            ),
            Error::Listen(port, e) => write!(
                f,
                "cannot listen on 127.0.0.1:{port} for the sign-in callback ({e}): free the port or choose another with --port"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<genesys_auth::Error> for Error {
    fn from(e: genesys_auth::Error) -> Self {
        Error::Auth(e)
    }
}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Self {
        Error::Cache(e)
    }
}

/// Session settings.
#[derive(Clone)]
pub struct Options {
    /// Cache directory (default: the platform's, e.g. `~/.cache/genesys-auth`).
    pub cache_dir: Option<PathBuf>,
    /// Retries for 429, 502/503/504 and network failures.
    pub retry: RetryPolicy,
    /// Refresh this long before expiry.
    pub refresh_skew: Duration,
    /// Called with what the app should know that ends nothing: the cache could not be written (the session goes
    /// on in this process only), the cache held tokens of another client, its lock could not be taken. The CLI
    /// prints a warning line.
    pub on_report: Option<Reporter>,
}

/// A hook for [`Options::on_report`].
pub type Reporter = std::sync::Arc<dyn Fn(&genesys_auth::Error) + Send + Sync>;

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("cache_dir", &self.cache_dir)
            .field("retry", &self.retry)
            .field("refresh_skew", &self.refresh_skew)
            .field("on_report", &self.on_report.is_some())
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: None,
            retry: RetryPolicy::default(),
            refresh_skew: Duration::from_millis(genesys_auth::session::DEFAULT_REFRESH_SKEW_MS),
            on_report: None,
        }
    }
}

/// How to run the loopback login.
pub struct LoginOptions {
    /// Port to listen on (0 = any free port; a fixed one for clients that registered it).
    pub port: u16,
    /// Open the system browser (otherwise only `on_url` shows the URL).
    pub open_browser: bool,
    /// Give up after this long.
    pub timeout: Duration,
    /// Called with the authorize URL (to print it), before waiting.
    pub on_url: Box<dyn Fn(&str) + Send + Sync>,
    /// Authorize parameters for the login page: `login_hint`, `prompt=login`, `org` with `provider` (straight to
    /// the org's SSO identity provider), or a standards server's own; checked by
    /// [`genesys_auth::AuthorizeRequest::param`] before anything listens.
    pub params: Vec<(String, String)>,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            port: 0,
            open_browser: true,
            timeout: Duration::from_millis(genesys_auth::session::LOGIN_TIMEOUT_MS),
            on_url: Box::new(|_| {}),
            params: Vec::new(),
        }
    }
}

/// A finished login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedIn {
    /// When the access token expires (epoch ms).
    pub expires_at_ms: u64,
}

/// A signed-in (or signing-in) user of one OAuth client in one region. Cheap to share across tasks.
///
/// Every decision (when to refresh, one refresh for many callers and processes, retries, 401 handling, where the
/// token may go) is made by the core's [`genesys_auth::session::Session`]; this type only executes its actions
/// with tokio, reqwest, the loopback listener, the cache file and its lock. The executor task starts on first use,
/// on the tokio runtime of that call.
pub struct Session {
    region: Region,
    client_id: String,
    cache: TokenCache,
    http: reqwest::Client,
    options: Options,
    executor: std::sync::Mutex<Option<mpsc::UnboundedSender<Command>>>,
}

/// Wall-clock time in epoch milliseconds.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The redirect URI registered for native apps: loopback without a port.
pub(crate) const REGISTERED_LOOPBACK: &str = "http://127.0.0.1/";

impl Session {
    /// A session for `client_id` in `region`.
    ///
    /// # Errors
    /// [`Error::Auth`] with `InvalidConfig` for an unusable client id; HTTP client setup failures.
    ///
    /// ```
    /// use genesys_auth::Region;
    /// use genesys_auth_native::{Options, Session};
    /// let options = Options { cache_dir: Some(std::env::temp_dir().join("genesys-auth-doc")), ..Options::default() };
    /// let session = Session::new(Region::parse("eu_west_1").unwrap(), "client-id", options).unwrap();
    /// assert!(session.cache().path().to_string_lossy().contains("login.mypurecloud.ie_client-id"));
    /// ```
    pub fn new(region: Region, client_id: &str, options: Options) -> Result<Self, Error> {
        Client::new(region.clone(), client_id, REGISTERED_LOOPBACK)?;
        let http = reqwest::Client::builder()
            // Never follow redirects: a redirect from the token endpoint is an attack or a misconfiguration, and one
            // from the API would carry the Bearer token to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            // No overall timeout here: the session machine gives a request up after REQUEST_TIMEOUT_MS, as in every
            // driver. Connecting alone is bounded, so that a dead host fails fast.
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("genesys-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| genesys_auth::Error::Network { detail: e.to_string() })?;
        let cache = TokenCache::new(options.cache_dir.as_deref(), &region, client_id);
        Ok(Session { region, client_id: client_id.to_string(), cache, http, options, executor: Default::default() })
    }

    /// The token cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// Sends `command` to the executor, starting it if needed.
    fn send(&self, command: Command) -> Result<(), Error> {
        let mut slot = self.executor.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let command = match slot.as_ref() {
            Some(tx) => match tx.send(command) {
                Ok(()) => return Ok(()),
                // The executor ended with its runtime: start another on this one.
                Err(mpsc::error::SendError(c)) => c,
            },
            None => command,
        };
        let machine_config = {
            let client = Client::new(self.region.clone(), &self.client_id, REGISTERED_LOOPBACK)?;
            let mut c = genesys_auth::session::Config::new(client);
            c.retry = self.options.retry;
            c.refresh_skew_ms = u64::try_from(self.options.refresh_skew.as_millis()).unwrap_or(u64::MAX);
            // The cache file is shared by every process of this user: refreshes take its lock.
            c.persistence = genesys_auth::session::Persistence::Shared;
            // A terminal cannot be redirected: `genesys-auth login` is the way back in.
            c.relogin = false;
            // A command's process ends with it: a sign-in that cannot be cached is of no use to the next one.
            c.memory_ends_with_call = true;
            c
        };
        let on_report = self.options.on_report.clone();
        let tx = executor::start(machine_config, self.cache.clone(), self.http.clone(), on_report);
        tx.send(command).map_err(|_| stopped())?;
        *slot = Some(tx);
        Ok(())
    }

    /// Runs one command to its answer.
    async fn ask(&self, make: impl FnOnce(oneshot::Sender<executor::Reply>) -> Command) -> Result<Done, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx))?;
        rx.await.map_err(|_| stopped())?
    }

    /// Signs in through the browser and a loopback redirect; caches the tokens.
    ///
    /// A request to the listener that is not this login's callback (a wrong `state`, a stray `?code=`) gets an
    /// error page and the listener goes on waiting for the real one.
    ///
    /// # Errors
    /// [`Error::Listen`] when the port cannot be opened, [`Error::Timeout`], and the login's own failures.
    ///
    /// ```no_run
    /// # async fn f(session: &genesys_auth_native::Session) -> Result<(), genesys_auth_native::Error> {
    /// use genesys_auth_native::LoginOptions;
    /// let options = LoginOptions { open_browser: false, on_url: Box::new(|url| eprintln!("open {url}")), ..LoginOptions::default() };
    /// let signed_in = session.login(options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, opts: LoginOptions) -> Result<SignedIn, Error> {
        // A refused parameter fails now, not after the timeout.
        Client::new(self.region.clone(), &self.client_id, REGISTERED_LOOPBACK)?.authorize().params(&opts.params)?;
        let listener = loopback::Loopback::bind(opts.port).await.map_err(|e| Error::Listen(opts.port, e))?;
        let (tx, rx) = oneshot::channel();
        let LoginOptions { open_browser, timeout, on_url, params, .. } = opts;
        self.send(Command::Login {
            redirect_uri: listener.redirect_uri(),
            params,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            on_open: Box::new(move |url: &str| {
                on_url(url);
                if open_browser {
                    // Without a browser the printed URL still works.
                    let _ = webbrowser::open(url);
                }
            }),
            reply: tx,
        })?;
        let outcome = std::sync::Mutex::new(Some(rx));
        let finished = listener
            .serve(timeout, |callback_url| {
                let outcome = &outcome;
                async move {
                    let (accepted_tx, accepted_rx) = oneshot::channel();
                    let accepted = match self.send(Command::Callback { url: callback_url, reply: accepted_tx }) {
                        Ok(()) => accepted_rx.await.unwrap_or(false),
                        Err(_) => false,
                    };
                    let waiting = accepted
                        .then(|| outcome.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take())
                        .flatten();
                    let Some(rx) = waiting else {
                        let page = "This is not the sign-in this command is waiting for: use the newest sign-in link.";
                        return (Err(page.to_string()), None);
                    };
                    let result = rx.await.map_err(|_| stopped()).and_then(|r| r);
                    let page = result.as_ref().map(|_| ()).map_err(ToString::to_string);
                    (page, Some(result))
                }
            })
            .await;
        match finished {
            Some(Ok(Done::SignedIn { expires_at_ms })) => Ok(SignedIn { expires_at_ms }),
            Some(Err(Error::Auth(genesys_auth::Error::PopupTimeout))) | None => Err(Error::Timeout(timeout)),
            Some(Err(e)) => Err(e),
            Some(Ok(_)) => Err(stopped()),
        }
    }

    /// A valid access token: from the cache, refreshed when it expires within the skew. One refresh at a time,
    /// across tasks and processes (the cache's lock file); a waiter first looks whether the refresh is done.
    ///
    /// # Errors
    /// `LoginRequired` (exit code 3) when there is no session or it cannot be refreshed; cache errors.
    ///
    /// ```no_run
    /// # async fn f(session: &genesys_auth_native::Session) -> Result<(), genesys_auth_native::Error> {
    /// let bearer = format!("Bearer {}", session.access_token().await?);
    /// # Ok(()) }
    /// ```
    pub async fn access_token(&self) -> Result<String, Error> {
        match self.ask(Command::Token).await? {
            Done::Token(token) => Ok(token),
            _ => Err(stopped()),
        }
    }

    /// `GET` an API path (`/api/v2/users/me`) with the Bearer token and the retry policy. A 401 is answered by
    /// one refresh and one more try. The path must stay on the region's API origin: anything else
    /// (`@host/x`, `.evil.example/`) is refused before any connection is made.
    ///
    /// # Errors
    /// `InvalidConfig` for a path that leaves the API origin; `Unauthorized` after a second 401; `RateLimited` /
    /// `Server` once retries are exhausted; login and cache errors.
    ///
    /// ```no_run
    /// # async fn f(session: &genesys_auth_native::Session) -> Result<(), genesys_auth_native::Error> {
    /// let (status, body) = session.get("/api/v2/users/me").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), Error> {
        let path = path.to_string();
        match self.ask(|reply| Command::Get { path, reply }).await? {
            Done::Response(status, body) => Ok((status, body)),
            _ => Err(stopped()),
        }
    }

    /// Signs out: revokes the token (`DELETE /api/v2/tokens/me`, best effort) and removes the cache.
    ///
    /// # Errors
    /// Cache errors only.
    pub async fn logout(&self) -> Result<(), Error> {
        self.ask(Command::Logout).await.map(|_| ())
    }
}

fn stopped() -> Error {
    Error::Auth(genesys_auth::Error::Network { detail: "the session's executor stopped".into() })
}
