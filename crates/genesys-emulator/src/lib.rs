//! # genesys-emulator
//!
//! A local, strict stand-in for Genesys Cloud's login host (`/oauth/authorize`, `/oauth/token`, `/logout`) and
//! API host (`/api/v2/users/me`, `/api/v2/tokens/me`, `/api/v2/organizations/me`), for developing and testing apps
//! offline.
//!
//! The heart is a pure handler, [`Emulator::handle`]: an `http::Request` and the current time in, a [`Reply`] out.
//! No sockets, no clock reads: tests drive it directly, and [`server`] adapts it to axum on loopback.
//!
//! ```
//! use genesys_emulator::{Config, Emulator};
//!
//! let emu = Emulator::new(Config::default());
//! let req = http::Request::get("/api/v2/users/me").body(bytes::Bytes::new()).unwrap();
//! let reply = emu.handle(req, 0);
//! assert_eq!(reply.response.status(), 401); // no token
//! ```

// Handlers return a ready `Response` as their error: it is the answer, not an exception.
#![allow(clippy::result_large_err)]

pub mod admin;
mod api;
pub mod cli;
pub mod config;
mod oauth;
mod page;
pub mod server;
mod store;

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use genesys_auth::Rng;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Serialize;

pub use admin::Fault;
pub use config::{Config, DEMO_CLIENT_ID, RefreshPolicy};
use store::Store;
pub use store::{MAX_CSRF, MAX_SESSIONS};

/// A ChaCha-based CSPRNG seeded once from the operating system.
struct SeededRng(rand::rngs::StdRng);

impl Rng for SeededRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), genesys_auth::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

/// What the handler answers, plus what the network adapter must do that a response cannot say.
#[derive(Debug)]
pub struct Reply {
    /// The response.
    pub response: Response<Bytes>,
    /// Wait this long before answering (fault injection).
    pub delay_ms: u64,
    /// Drop the connection instead of answering (fault injection).
    pub drop_connection: bool,
}

impl From<Response<Bytes>> for Reply {
    fn from(response: Response<Bytes>) -> Self {
        Reply { response, delay_ms: 0, drop_connection: false }
    }
}

/// One line of the request log: what was called and how it ended. Never holds a token, code or verifier.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Sequence number since start.
    pub seq: u64,
    /// Emulator time (epoch ms, clock offset included).
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Status answered.
    pub status: u16,
    /// For `/oauth/token`: the grant type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// For `/oauth/token`: the OAuth error answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when a fault rule produced the answer.
    pub fault: bool,
}

/// Sizes of the emulator's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Authorization codes remembered (used ones are kept until expiry for replay detection).
    pub codes: usize,
    /// Token families.
    pub families: usize,
    /// Access tokens.
    pub access_tokens: usize,
    /// Refresh tokens.
    pub refresh_tokens: usize,
    /// Login-page sessions.
    pub sessions: usize,
    /// Login forms open (their one-time tokens).
    pub login_forms: usize,
    /// Fault rules installed.
    pub faults: usize,
}

const LOG_CAPACITY: usize = 10_000;

struct Inner {
    config: Config,
    /// The configuration at start: `reset` returns to it.
    initial_config: Config,
    store: Store,
    faults: Vec<Fault>,
    log: VecDeque<LogEntry>,
    seq: u64,
    clock_offset_ms: u64,
    rng: Box<dyn Rng + Send>,
}

/// The emulated Genesys Cloud org. Cheap to share (`Arc<Emulator>`); all state sits behind one mutex.
pub struct Emulator {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Emulator")
    }
}

/// The request as the handlers see it: parsed once.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub now_ms: u64,
}

/// Mutable context a handler works in.
pub(crate) struct Ctx<'a> {
    pub config: &'a Config,
    pub store: &'a mut Store,
    pub rng: &'a mut (dyn Rng + Send),
    /// Filled by the token handler for the log.
    pub grant_type: Option<String>,
    pub error: Option<String>,
}

impl Ctx<'_> {
    /// A fresh random token (32 bytes, base64url).
    pub fn token(&mut self) -> String {
        self.random_text::<32>()
    }

    /// `N` random bytes, base64url.
    fn random_text<const N: usize>(&mut self) -> String {
        let mut b = [0u8; N];
        if self.rng.fill(&mut b).is_err() {
            // The OS RNG does not fail on supported platforms; a zero token would be guessable, so stop.
            std::process::abort();
        }
        genesys_auth::base64url(&b)
    }
}

impl Inner {
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            codes: self.store.codes.len(),
            families: self.store.families.len(),
            access_tokens: self.store.access.len(),
            refresh_tokens: self.store.refresh.len(),
            sessions: self.store.sessions.len(),
            login_forms: self.store.csrf.len(),
            faults: self.faults.len(),
        }
    }

    fn reset(&mut self) {
        self.store = Store::default();
        self.faults.clear();
        self.log.clear();
        self.clock_offset_ms = 0;
        self.config = self.initial_config.clone();
    }
}

impl Emulator {
    /// An emulator with this configuration and a CSPRNG seeded from the OS (ChaCha: one system call at start
    /// rather than one per token, which matters at thousands of grants per second).
    pub fn new(config: Config) -> Self {
        Self::with_rng(config, Box::new(SeededRng(rand::SeedableRng::from_os_rng())))
    }

    /// An emulator with an injected random source (deterministic tests).
    pub fn with_rng(config: Config, rng: Box<dyn Rng + Send>) -> Self {
        Emulator {
            inner: Mutex::new(Inner {
                initial_config: config.clone(),
                config,
                store: Store::default(),
                faults: Vec::new(),
                log: VecDeque::new(),
                seq: 0,
                clock_offset_ms: 0,
                rng,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock must not take the emulator down with it: the state is still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the configuration.
    pub fn config(&self) -> Config {
        self.lock().config.clone()
    }

    /// Adds a fault rule.
    ///
    /// ```
    /// use genesys_emulator::{Config, Emulator, Fault};
    /// let emu = Emulator::new(Config::default());
    /// emu.add_fault(Fault { route: "/oauth/token".into(), status: Some(503), times: 2, ..Fault::default() });
    /// let req = http::Request::post("/oauth/token").body(bytes::Bytes::new()).unwrap();
    /// assert_eq!(emu.handle(req, 0).response.status(), 503);
    /// ```
    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Removes all fault rules.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Forgets every code, token, session, fault and log line, resets the clock offset, and restores the
    /// configuration the emulator started with.
    pub fn reset(&self) {
        self.lock().reset();
    }

    /// Moves the emulator's clock forward (expire tokens without waiting).
    ///
    /// ```
    /// # let emu = genesys_emulator::Emulator::new(genesys_emulator::Config::default());
    /// emu.advance_clock(86_400_000); // every token issued so far has expired
    /// ```
    pub fn advance_clock(&self, ms: u64) {
        let mut inner = self.lock();
        inner.clock_offset_ms = inner.clock_offset_ms.saturating_add(ms);
    }

    /// How many codes, token families, access and refresh tokens the emulator holds now (memory checks).
    pub fn stats(&self) -> Stats {
        self.lock().stats()
    }

    /// The request log, oldest first (at most the last 10 000 requests).
    pub fn request_log(&self) -> Vec<LogEntry> {
        self.lock().log.iter().cloned().collect()
    }

    /// Handles one request at wall-clock time `now_ms` (epoch milliseconds).
    pub fn handle(&self, req: Request<Bytes>, now_ms: u64) -> Reply {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let mut inner = self.lock();
        let now_ms = now_ms.saturating_add(inner.clock_offset_ms);
        let call =
            Call { method: &parts.method, path: &path, query: &query, headers: &parts.headers, body: &body, now_ms };

        if let Some(reply) = admin::handle(&mut inner, &call) {
            return reply;
        }

        let inner = &mut *inner;
        let fault = admin::take_fault(&mut inner.faults, &call);
        let code_lifetime_ms = inner.config.code_lifetime_s.saturating_mul(1000);
        inner.store.maybe_sweep(now_ms, code_lifetime_ms);
        let mut ctx = Ctx {
            config: &inner.config,
            store: &mut inner.store,
            rng: inner.rng.as_mut(),
            grant_type: None,
            error: None,
        };
        let mut reply = match &fault {
            Some(f) if f.answers() => f.reply(),
            _ => {
                let mut r = Reply::from(route(&mut ctx, &call));
                if let Some(f) = &fault {
                    r.delay_ms = f.delay_ms.unwrap_or(0);
                }
                r
            }
        };
        let (grant_type, error) = (ctx.grant_type.take(), ctx.error.take());
        finish_headers(&mut reply.response, &mut ctx, &call);
        inner.seq += 1;
        let entry = LogEntry {
            seq: inner.seq,
            at_ms: now_ms,
            method: call.method.to_string(),
            // Bounded: the log keeps 10 000 entries, whatever the requests' sizes.
            path: path.chars().take(256).collect(),
            status: if reply.drop_connection { 0 } else { reply.response.status().as_u16() },
            grant_type,
            error,
            fault: fault.is_some(),
        };
        if inner.log.len() == LOG_CAPACITY {
            inner.log.pop_front();
        }
        inner.log.push_back(entry);
        reply
    }
}

fn route(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    if call.method == Method::OPTIONS {
        return preflight(ctx.config, call);
    }
    match (call.method.as_str(), call.path) {
        ("GET", "/oauth/authorize") => oauth::authorize(ctx, call),
        ("POST", "/oauth/authorize") => oauth::decision(ctx, call),
        ("POST", "/oauth/token") => oauth::token(ctx, call),
        (_, "/oauth/token") => oauth::oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "use POST"),
        ("GET", "/logout") => oauth::logout(ctx, call),
        ("GET", "/") => page::html(StatusCode::OK, &page::home(ctx.config)),
        (_, p) if p.starts_with("/api/v2/") => api::handle(ctx, call),
        _ => api::error(StatusCode::NOT_FOUND, "not.found", "The requested resource was not found."),
    }
}

/// The origin of the request when some registered client allows it (for preflights, which name no client).
fn allowed_origin<'a>(config: &Config, call: &'a Call<'_>) -> Option<&'a str> {
    let origin = call.headers.get(header::ORIGIN)?.to_str().ok()?;
    config.clients.iter().any(|c| c.allowed_origins.iter().any(|o| o == origin)).then_some(origin)
}

/// The origin of the request when the client it is for allows it: the token endpoint's `client_id`, or the
/// client the API request's Bearer token was issued to; another client's origins do not count. When the request
/// names no known client (an unknown token's 401 must still reach the page), any registered client's.
fn client_origin<'a>(ctx: &Ctx<'_>, call: &'a Call<'_>) -> Option<&'a str> {
    let origin = call.headers.get(header::ORIGIN)?.to_str().ok()?;
    let client_id = if call.path == "/oauth/token" {
        form(call.body).and_then(|f| param(&f, "client_id").map(str::to_string))
    } else {
        let auth = call.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = auth.and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")));
        let family = token.and_then(|t| ctx.store.access.get(t)).map(|a| a.family);
        family.and_then(|f| ctx.store.families.get(&f)).map(|f| f.client_id.clone())
    };
    match client_id.as_deref().and_then(|id| ctx.config.client(id)) {
        Some(client) => client.allowed_origins.iter().any(|o| o == origin).then_some(origin),
        None => allowed_origin(ctx.config, call),
    }
}

fn preflight(config: &Config, call: &Call<'_>) -> Response<Bytes> {
    let cors_path = call.path == "/oauth/token" || call.path.starts_with("/api/v2/");
    match allowed_origin(config, call) {
        Some(_) if cors_path => {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE"),
            );
            // The headers the browser asks for (the official SDKs add their own, e.g. `purecloud-sdk`).
            let asked = call.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                asked.unwrap_or_else(|| HeaderValue::from_static("authorization, content-type, accept")),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            r
        }
        _ => {
            let mut r = Response::new(Bytes::from_static(b"CORS preflight refused: origin not allowed"));
            *r.status_mut() = StatusCode::FORBIDDEN;
            r
        }
    }
}

/// Headers every answer gets: correlation id, CORS for allowed origins.
fn finish_headers(r: &mut Response<Bytes>, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let id = ctx.random_text::<16>();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("inin-correlation-id", v);
    }
    let cors_path = call.path == "/oauth/token" || call.path.starts_with("/api/v2/");
    if let Some(origin) = client_origin(ctx, call).filter(|_| cors_path) {
        if let Ok(v) = HeaderValue::from_str(origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    if cors_path && ctx.config.expose_rate_limit_headers && h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "retry-after, inin-correlation-id, inin-ratelimit-count, inin-ratelimit-allowed, inin-ratelimit-reset",
            ),
        );
    }
}

/// The pairs of a form or query string; `None` when a name repeats (ambiguous requests are refused).
pub(crate) fn form(text: &[u8]) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Linear in the number of names (a 64 KB body of 12 000 names must not cost 10^8 comparisons).
    let mut seen = std::collections::HashSet::new();
    for (k, v) in form_urlencoded::parse(text) {
        if !seen.insert(k.clone()) {
            return None;
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Some(out)
}

/// The value of `name` in parsed pairs.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A response with a JSON body.
pub(crate) fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Bytes> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
