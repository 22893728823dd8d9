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

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use genesys_auth::{Client, Failure, OsRng, Region, RetryPolicy, Rng, TokenRequest, TokenSet, api_error};
use tokio::sync::Mutex;

pub use cache::{CacheError, TokenCache};

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
            Error::Auth(E::LoginRequired | E::Unauthorized { .. }) | Error::Cache(CacheError::Unreadable(_)) => 3,
            Error::Auth(
                E::Authorization { .. }
                | E::StateMismatch
                | E::OAuth { .. }
                | E::MissingParameter { .. }
                | E::DuplicateParameter { .. },
            ) => 4,
            Error::Timeout(_) => 5,
            Error::Auth(E::Network { .. } | E::Server { .. } | E::RateLimited { .. } | E::Malformed { .. }) => 6,
            Error::Listen(..) => 7,
            Error::Auth(E::UnknownRegion { .. } | E::InvalidConfig { .. }) => 2,
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
#[derive(Clone, Debug)]
pub struct Options {
    /// Cache directory (default: the platform's, e.g. `~/.cache/genesys-auth`).
    pub cache_dir: Option<PathBuf>,
    /// Retries for 429, 502/503/504 and network failures.
    pub retry: RetryPolicy,
    /// Refresh this long before expiry.
    pub refresh_skew: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { cache_dir: None, retry: RetryPolicy::default(), refresh_skew: Duration::from_secs(60) }
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
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions { port: 0, open_browser: true, timeout: Duration::from_secs(300), on_url: Box::new(|_| {}) }
    }
}

/// A signed-in (or signing-in) user of one OAuth client in one region. Cheap to share across tasks.
pub struct Session {
    region: Region,
    client_id: String,
    cache: TokenCache,
    http: reqwest::Client,
    options: Options,
    refreshing: Arc<Mutex<()>>,
}

/// Wall-clock time in epoch milliseconds.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The redirect URI registered for native apps: loopback without a port.
const REGISTERED_LOOPBACK: &str = "http://127.0.0.1/";

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
            // Never follow redirects: a redirect from the token endpoint is an attack or a misconfiguration.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("genesys-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| genesys_auth::Error::Network { detail: e.to_string() })?;
        let cache = TokenCache::new(options.cache_dir.as_deref(), &region, client_id);
        Ok(Session {
            region,
            client_id: client_id.to_string(),
            cache,
            http,
            options,
            refreshing: Arc::new(Mutex::new(())),
        })
    }

    /// The token cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    fn client(&self, redirect_uri: &str) -> Result<Client, Error> {
        Ok(Client::new(self.region.clone(), &self.client_id, redirect_uri)?)
    }

    /// Signs in through the browser and a loopback redirect; caches and returns the tokens.
    ///
    /// # Errors
    /// [`Error::Listen`] when the port cannot be opened, [`Error::Timeout`], and the login's own failures.
    ///
    /// ```no_run
    /// # async fn f(session: &genesys_auth_native::Session) -> Result<(), genesys_auth_native::Error> {
    /// use genesys_auth_native::LoginOptions;
    /// let options = LoginOptions { open_browser: false, on_url: Box::new(|url| eprintln!("open {url}")), ..LoginOptions::default() };
    /// let tokens = session.login(options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, opts: LoginOptions) -> Result<TokenSet, Error> {
        let listener = loopback::Loopback::bind(opts.port).await.map_err(|e| Error::Listen(opts.port, e))?;
        let redirect_uri = listener.redirect_uri();
        let client = self.client(&redirect_uri)?;
        let (url, pending) = client.authorize().build(&mut OsRng, now_ms())?;
        (opts.on_url)(&url);
        if opts.open_browser {
            // Without a browser the printed URL still works.
            let _ = webbrowser::open(&url);
        }
        let mut pending = Some(pending);
        let finished = listener
            .serve(opts.timeout, |callback_url| {
                let taken = pending.take();
                async move {
                    let Some(p) = taken else {
                        return (Err("This sign-in was already used. Run the command again.".to_string()), None);
                    };
                    let result = match p.complete(&callback_url, now_ms()) {
                        Ok(request) => self.send_token_request(&request).await,
                        Err(e) => Err(e),
                    };
                    let page = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
                    (page, Some(result))
                }
            })
            .await;
        let tokens = finished.ok_or(Error::Timeout(opts.timeout))??;
        self.cache.store(&tokens)?;
        Ok(tokens)
    }

    /// POSTs a token request with the retry policy (a code exchange is retried only on 429).
    async fn send_token_request(&self, request: &TokenRequest) -> Result<TokenSet, genesys_auth::Error> {
        let (status, retry_after, body) = self
            .send_with_retry(request.spends_code(), || {
                let mut r = self.http.post(request.url()).body(request.body().to_string());
                for (k, v) in TokenRequest::HEADERS {
                    r = r.header(k, v);
                }
                r
            })
            .await?;
        request.parse_response(status, retry_after.as_deref(), &body, now_ms())
    }

    /// Sends the request `make` builds, retrying per the policy; returns status, Retry-After and body.
    async fn send_with_retry(
        &self,
        spends_code: bool,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(u16, Option<String>, Vec<u8>), genesys_auth::Error> {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = make().send().await;
            let (failure, answer) = match outcome {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after =
                        resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    (status, Ok((status, retry_after, body)))
                }
                Err(e) => (0, Err(genesys_auth::Error::Network { detail: e.to_string() })),
            };
            let ra = answer.as_ref().ok().and_then(|a| a.1.clone());
            let kind = Failure::from_answer(answer.is_ok().then_some(failure), ra.as_deref());
            let mut random = [0u8; 4];
            let _ = OsRng.fill(&mut random);
            let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            // The core decides what is retryable (a 2xx or a 404 is not) and how long to wait.
            let delay =
                self.options.retry.decide(kind, spends_code, attempts, elapsed, u32::from_le_bytes(random), now_ms());
            match delay {
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                None => return answer,
            }
        }
    }

    /// A valid access token: from the cache, refreshed when it expires within the skew. One refresh at a time,
    /// across threads (a mutex) and processes (a lock file); a waiter first looks whether the refresh is done.
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
        let skew = u64::try_from(self.options.refresh_skew.as_millis()).unwrap_or(u64::MAX);
        let tokens = self.cache.load()?.ok_or(genesys_auth::Error::LoginRequired)?;
        if !tokens.needs_refresh(now_ms(), skew) {
            return Ok(tokens.access.secret().to_string());
        }
        let _in_process = self.refreshing.lock().await;
        let cache = self.cache.clone();
        let _lock = tokio::task::spawn_blocking(move || cache.lock())
            .await
            .map_err(|e| genesys_auth::Error::Network { detail: e.to_string() })??;
        // Another process or task may have refreshed while we waited.
        let tokens = self.cache.load()?.ok_or(genesys_auth::Error::LoginRequired)?;
        if !tokens.needs_refresh(now_ms(), skew) {
            return Ok(tokens.access.secret().to_string());
        }
        let Some(refresh) = &tokens.refresh else {
            return Err(genesys_auth::Error::LoginRequired.into());
        };
        let request = TokenRequest::refresh(&self.client(REGISTERED_LOOPBACK)?, refresh);
        match self.send_token_request(&request).await {
            Ok(fresh) => {
                self.cache.store(&fresh)?;
                Ok(fresh.access.secret().to_string())
            }
            Err(e) if e.refresh_refused() => {
                self.cache.remove()?;
                Err(genesys_auth::Error::LoginRequired.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `GET` an API path (`/api/v2/users/me`) with the Bearer token and the retry policy. A 401 is answered by
    /// one forced refresh and one more try.
    ///
    /// # Errors
    /// `Unauthorized` after a second 401; `RateLimited` / `Server` once retries are exhausted; login and cache
    /// errors.
    ///
    /// ```no_run
    /// # async fn f(session: &genesys_auth_native::Session) -> Result<(), genesys_auth_native::Error> {
    /// let (status, body) = session.get("/api/v2/users/me").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), Error> {
        let url = format!("{}{}", self.region.api_base(), path);
        let mut forced = false;
        loop {
            let token = self.access_token().await?;
            let (status, retry_after, body) =
                self.send_with_retry(false, || self.http.get(&url).bearer_auth(&token)).await?;
            if status == 401 && !forced {
                forced = true;
                self.expire_cached()?;
                continue;
            }
            if status == 401 || status == 429 || status >= 500 {
                return Err(api_error(status, retry_after.as_deref(), &body, now_ms()).into());
            }
            return Ok((status, body));
        }
    }

    /// Marks the cached access token expired so the next [`Session::access_token`] refreshes.
    fn expire_cached(&self) -> Result<(), Error> {
        if let Some(mut t) = self.cache.load()? {
            if t.refresh.is_none() {
                self.cache.remove()?;
                return Err(genesys_auth::Error::LoginRequired.into());
            }
            t.expires_at_ms = 0;
            self.cache.store(&t)?;
        }
        Ok(())
    }

    /// Signs out: revokes the token (`DELETE /api/v2/tokens/me`, best effort) and removes the cache.
    ///
    /// # Errors
    /// Cache errors only.
    pub async fn logout(&self) -> Result<(), Error> {
        if let Ok(Some(tokens)) = self.cache.load() {
            let url = format!("{}/api/v2/tokens/me", self.region.api_base());
            let _ = self.http.delete(&url).bearer_auth(tokens.access.secret()).send().await;
        }
        self.cache.remove()?;
        Ok(())
    }
}
