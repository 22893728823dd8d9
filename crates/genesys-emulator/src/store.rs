//! The emulator's memory: codes, tokens, token families, sessions and rate windows, with expiry sweeping.

use std::collections::{HashMap, VecDeque};

/// How long a login form may be filled in.
pub const CSRF_LIFETIME_MS: u64 = 30 * 60_000;

/// How long a login-page session lasts (Genesys: about a working day).
pub const SESSION_LIFETIME_MS: u64 = 12 * 3_600_000;

/// Login forms open at once at most: beyond it the oldest is forgotten (its form gets "expired, start again"), so a
/// page that loops `<img src=…/oauth/authorize?…>` cannot grow the emulator without bound.
pub const MAX_CSRF: usize = 10_000;

/// Login-page sessions kept at most, oldest out (a user whose session went signs in on the page again).
pub const MAX_SESSIONS: usize = 10_000;

/// One authorization code, bound to what the authorize request said.
#[derive(Debug)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub method: String,
    pub user_id: String,
    pub expires_at_ms: u64,
    /// Set once the code was exchanged: a second use revokes what it issued.
    pub family: Option<u64>,
}

/// The tokens issued from one login (one code): revoked together.
#[derive(Debug)]
pub struct Family {
    pub client_id: String,
    pub user_id: String,
    /// No refresh token of the family lives past this.
    pub expires_at_ms: u64,
    pub revoked: bool,
}

/// An access token.
#[derive(Debug)]
pub struct Access {
    pub family: u64,
    pub expires_at_ms: u64,
    pub last_used_ms: u64,
    pub issued_at_ms: u64,
    pub revoked: bool,
}

/// A refresh token.
#[derive(Debug)]
pub struct Refresh {
    pub family: u64,
    pub expires_at_ms: u64,
    /// Retired by rotation: using it again is reuse.
    pub used: bool,
}

/// Requests counted in the current one-minute window of a token.
#[derive(Debug)]
pub struct RateWindow {
    pub started_ms: u64,
    pub count: u32,
}

/// Everything the emulator remembers.
#[derive(Debug, Default)]
pub struct Store {
    pub codes: HashMap<String, CodeGrant>,
    pub families: HashMap<u64, Family>,
    pub access: HashMap<String, Access>,
    pub refresh: HashMap<String, Refresh>,
    pub rate: HashMap<String, RateWindow>,
    /// Login-page sessions (cookie value → user id, started at), like the Genesys login session that makes
    /// re-login silent. Forgotten after [`SESSION_LIFETIME_MS`].
    pub sessions: HashMap<String, (String, u64)>,
    /// Login-form tokens (value → issued at), one-time, forgotten after [`CSRF_LIFETIME_MS`] or beyond
    /// [`MAX_CSRF`]; see [`Store::add_csrf`].
    pub csrf: HashMap<String, u64>,
    /// The order the login-form tokens and sessions came in, oldest first (may name ones already gone).
    csrf_order: VecDeque<String>,
    session_order: VecDeque<String>,
    pub next_family: u64,
    last_sweep_ms: u64,
}

/// Inserts `key` into `map` (through `insert`) and its order, forgetting the oldest beyond `max`.
fn bounded<V>(map: &mut HashMap<String, V>, order: &mut VecDeque<String>, max: usize, key: String, value: V) {
    order.push_back(key.clone());
    map.insert(key, value);
    while map.len() > max || order.len() > max {
        match order.pop_front() {
            Some(old) => drop(map.remove(&old)),
            None => break,
        }
    }
}

impl Store {
    /// Remembers a login form's one-time token (issued at `now_ms`), the oldest forgotten beyond [`MAX_CSRF`].
    pub fn add_csrf(&mut self, token: String, now_ms: u64) {
        bounded(&mut self.csrf, &mut self.csrf_order, MAX_CSRF, token, now_ms);
    }

    /// Remembers a login-page session, the oldest forgotten beyond [`MAX_SESSIONS`].
    pub fn add_session(&mut self, cookie: String, user_id: String, now_ms: u64) {
        bounded(&mut self.sessions, &mut self.session_order, MAX_SESSIONS, cookie, (user_id, now_ms));
    }

    /// A new token family.
    pub fn new_family(&mut self, client_id: &str, user_id: &str, expires_at_ms: u64) -> u64 {
        self.next_family += 1;
        self.families.insert(
            self.next_family,
            Family { client_id: client_id.into(), user_id: user_id.into(), expires_at_ms, revoked: false },
        );
        self.next_family
    }

    /// Revokes a family: every access and refresh token issued in it stops working.
    pub fn revoke_family(&mut self, family: u64) {
        if let Some(f) = self.families.get_mut(&family) {
            f.revoked = true;
        }
        for a in self.access.values_mut().filter(|a| a.family == family) {
            a.revoked = true;
        }
        self.refresh.retain(|_, r| r.family != family);
    }

    /// True when the family exists and is not revoked.
    pub fn family_alive(&self, family: u64) -> bool {
        self.families.get(&family).is_some_and(|f| !f.revoked)
    }

    /// Drops what has expired, at most once a second of emulator time, so memory stays bounded under load
    /// without a pass over every entry on every request.
    pub fn maybe_sweep(&mut self, now_ms: u64, code_lifetime_ms: u64) {
        if now_ms.saturating_sub(self.last_sweep_ms) < 1000 {
            return;
        }
        self.last_sweep_ms = now_ms;
        // Used codes are kept until expiry (reuse detection), then forgotten.
        self.codes.retain(|_, c| c.expires_at_ms.saturating_add(code_lifetime_ms) > now_ms);
        // Expired access tokens are kept ten minutes, so the API can still answer `credentials.expired` for them.
        self.access.retain(|_, a| a.expires_at_ms.saturating_add(600_000) > now_ms);
        self.refresh.retain(|_, r| r.expires_at_ms > now_ms);
        self.rate.retain(|_, w| now_ms.saturating_sub(w.started_ms) < 60_000);
        self.sessions.retain(|_, (_, started)| now_ms.saturating_sub(*started) < SESSION_LIFETIME_MS);
        self.csrf.retain(|_, issued| now_ms.saturating_sub(*issued) <= CSRF_LIFETIME_MS);
        let live: std::collections::HashSet<u64> =
            self.access.values().map(|a| a.family).chain(self.refresh.values().map(|r| r.family)).collect();
        let codes: std::collections::HashSet<u64> = self.codes.values().filter_map(|c| c.family).collect();
        self.families.retain(|id, _| live.contains(id) || codes.contains(id));
    }
}
