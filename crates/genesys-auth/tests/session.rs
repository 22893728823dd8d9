//! The session machine on a virtual clock: simulated tabs share a fake storage and lock, a fake token server
//! rotates refresh tokens and detects their reuse. No browser, no sockets, no sleeping.

use std::collections::{HashMap, VecDeque};

use genesys_auth::session::{
    ANNOUNCED_WAIT_MS, Action, Announcement, Area, Config, Event, LoginOptions, Outcome, Persistence, Reply, Request,
    RequestId, Restored, SIGNED_OUT_MARK, Session, Slot, Waiter,
};
use genesys_auth::{Client, Error, Region, Rng, TokenSet, parse_token_response};

const T0: u64 = 1_800_000_000_000;
const REDIRECT: &str = "http://localhost:3000/";

/// The machine's events as calls, so that the tests read as what happens (each is one [`Event`]).
trait Drive {
    fn ev(&mut self, event: Event<'_>, now: u64);
    fn want_token(&mut self, waiter: Waiter, now: u64) {
        self.ev(Event::WantToken { waiter }, now);
    }
    fn want_refresh(&mut self, waiter: Waiter, now: u64) {
        self.ev(Event::WantRefresh { waiter }, now);
    }
    fn fetch(&mut self, waiter: Waiter, path_or_url: &str, now: u64) {
        self.ev(Event::Fetch { waiter, path_or_url }, now);
    }
    fn login(&mut self, waiter: Waiter, options: &LoginOptions, now: u64) {
        self.ev(Event::Login { waiter, options: options.clone() }, now);
    }
    fn callback(&mut self, waiter: Waiter, url: &str, pending: Option<&str>, now: u64) {
        self.ev(Event::Callback { waiter, url, pending }, now);
    }
    /// Whether it was the login's callback (then fed).
    fn popup_callback(&mut self, url: &str, now: u64) -> bool;
    fn popup_closed(&mut self) {
        self.ev(Event::PopupClosed, 0);
    }
    fn popup_blocked(&mut self) {
        self.ev(Event::PopupBlocked, 0);
    }
    fn lock_granted(&mut self, stored: Option<&str>, now: u64) {
        self.ev(Event::LockGranted { stored }, now);
    }
    fn stored_changed(&mut self, stored: Option<&str>, now: u64) {
        self.ev(Event::StoredChanged { stored }, now);
    }
    fn tokens_announced(&mut self, stored: Option<&str>, now: u64) {
        self.ev(Event::Announced { announcement: Announcement::Tokens, stored }, now);
    }
    fn store_failed(&mut self, slot: Slot, detail: &str) {
        self.ev(Event::StoreFailed { slot, detail }, 0);
    }
    fn answer(&mut self, id: RequestId, reply: Reply<'_>, now: u64) {
        self.ev(Event::Answer { id, reply }, now);
    }
    fn logout(&mut self, waiter: Waiter, sso_return: Option<&str>, now: u64) {
        self.ev(Event::Logout { waiter, sso_return }, now);
    }
    fn set_location(&mut self, href: &str) {
        self.ev(Event::Location { href }, 0);
    }
    fn set_keep_fresh(&mut self, on: bool) {
        self.ev(Event::KeepFresh { on }, 0);
    }
}

impl Drive for Session {
    fn ev(&mut self, event: Event<'_>, now: u64) {
        self.handle(event, now);
    }
    /// As the native executor does: only the login's own callback is fed.
    fn popup_callback(&mut self, url: &str, now: u64) -> bool {
        let ours = self.is_login_callback(url);
        if ours {
            self.handle(Event::PopupCallback { url }, now);
        }
        ours
    }
}

/// A session restored from what storage holds.
fn restored(
    config: Config,
    tokens: Option<&str>,
    relogin_at: Option<&str>,
    signed_out: Option<&str>,
    now: u64,
    seed: u64,
) -> Session {
    let mut session = Session::new(config, Box::new(Seeded(seed)));
    session.handle(Event::Restored(Restored { tokens, relogin_at, signed_out }), now);
    session
}

/// A deterministic random source (xorshift), so every run makes the same states and jitter.
struct Seeded(u64);

impl Rng for Seeded {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        for b in dest {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
        Ok(())
    }
}

fn client_for(base: &str) -> Client {
    Client::new(Region::custom(base).unwrap_or_else(|e| panic!("{e}")), "cid", REDIRECT)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn client() -> Client {
    client_for("http://127.0.0.1:8080")
}

/// What the fake token server answers next, instead of doing its job.
#[derive(Clone, Debug)]
enum Scripted {
    Status(u16, Option<&'static str>, &'static str),
    Network,
}

/// A token server with rotating refresh tokens: each refresh token works once; reusing one is `invalid_grant`
/// and revokes the newest one too (reuse detection).
#[derive(Default)]
struct Server {
    next: u32,
    live_refresh: Option<String>,
    expires_in_s: u64,
    issue_refresh: bool,
    refresh_posts: usize,
    code_posts: usize,
    invalid_grants: usize,
    script: VecDeque<Scripted>,
    api_script: VecDeque<(u16, &'static str)>,
    api_calls: Vec<(String, String)>,
    revoked: Vec<String>,
}

impl Server {
    fn new() -> Self {
        Server { expires_in_s: 3600, issue_refresh: true, ..Server::default() }
    }

    fn tokens(&mut self) -> (u16, String) {
        self.next += 1;
        let access = format!("access-{}", self.next);
        let mut body =
            format!(r#"{{"access_token":"{access}","token_type":"bearer","expires_in":{}"#, self.expires_in_s);
        if self.issue_refresh {
            let refresh = format!("refresh-{}", self.next);
            body.push_str(&format!(r#","refresh_token":"{refresh}""#));
            self.live_refresh = Some(refresh);
        }
        body.push('}');
        (200, body)
    }

    fn token_post(&mut self, body: &str) -> Option<(u16, Option<&'static str>, String)> {
        let form: HashMap<String, String> =
            body.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match form.get("grant_type").map(String::as_str) {
            Some("refresh_token") => self.refresh_posts += 1,
            _ => self.code_posts += 1,
        }
        match self.script.pop_front() {
            Some(Scripted::Status(s, ra, b)) => return Some((s, ra, b.to_string())),
            Some(Scripted::Network) => return None,
            None => {}
        }
        let (status, body) = match form.get("grant_type").map(String::as_str) {
            Some("refresh_token") => {
                if form.get("refresh_token") == self.live_refresh.as_ref() {
                    self.tokens()
                } else {
                    self.invalid_grants += 1;
                    self.live_refresh = None;
                    (400, r#"{"error":"invalid_grant","description":"reused","error_description":"reused"}"#.into())
                }
            }
            _ => self.tokens(),
        };
        Some((status, None, body))
    }
}

/// One tab (or process): its machine, its private storage, and what its callers got.
struct Tab {
    session: Session,
    private: HashMap<&'static str, String>,
    resolved: Vec<(Waiter, Result<Outcome, Error>)>,
    navigations: Vec<String>,
    popups: Vec<(String, String)>,
    reports: Vec<Error>,
    address: Vec<String>,
    refuse_token_writes: bool,
    changes: usize,
    /// Writes asked for.
    stored: usize,
    /// What other tabs announced to this one.
    heard: Vec<Announcement>,
    /// Requests the machine gave up.
    aborted: Vec<RequestId>,
}

fn request_id(request: &Request) -> RequestId {
    match request {
        Request::Token { id, .. } | Request::Api { id, .. } | Request::Revoke { id, .. } => *id,
    }
}

/// Tabs, a shared storage with a lock, a server and a clock.
struct World {
    now: u64,
    shared: HashMap<&'static str, String>,
    lock: Option<usize>,
    lock_queue: VecDeque<usize>,
    wire: VecDeque<(usize, Request)>,
    server: Server,
    tabs: Vec<Tab>,
    next_waiter: Waiter,
    /// Tabs whose view of the shared tokens is behind (a browser process that sees another's write late): what
    /// they read instead.
    lagging: HashMap<usize, Option<String>>,
}

impl World {
    fn new() -> Self {
        World {
            now: T0,
            shared: HashMap::new(),
            lock: None,
            lock_queue: VecDeque::new(),
            wire: VecDeque::new(),
            server: Server::new(),
            tabs: Vec::new(),
            next_waiter: 1,
            lagging: HashMap::new(),
        }
    }

    /// True while the shared storage holds tokens (not nothing, nor the sign-out mark).
    fn shares_tokens(&self) -> bool {
        self.shared.get("tokens").is_some_and(|t| t != SIGNED_OUT_MARK)
    }

    /// The shared tokens as `tab` reads them.
    fn view(&self, tab: usize) -> Option<String> {
        self.lagging.get(&tab).cloned().unwrap_or_else(|| self.shared.get("tokens").cloned())
    }

    /// From now on `tab` reads the shared tokens as they are now, whatever other tabs write.
    fn lag(&mut self, tab: usize) {
        self.lagging.insert(tab, self.shared.get("tokens").cloned());
    }

    /// `tab` sees the shared storage as it is again, and hears of the change (the browser's `storage` event) if
    /// `event`.
    fn catch_up(&mut self, tab: usize, event: bool) {
        self.lagging.remove(&tab);
        if event {
            let (stored, now) = (self.view(tab), self.now);
            self.tabs[tab].session.stored_changed(stored.as_deref(), now);
        }
    }

    fn config(persistence: Persistence) -> Config {
        let mut c = Config::new(client());
        c.persistence = persistence;
        c
    }

    /// Opens a tab, which reads the storage it is configured with.
    fn open(&mut self, config: Config) -> usize {
        self.open_with_private(config, HashMap::new())
    }

    fn open_with_private(&mut self, config: Config, private: HashMap<&'static str, String>) -> usize {
        let stored = match config.persistence {
            Persistence::Shared => self.shared.get("tokens").cloned(),
            Persistence::Private => private.get("tokens").cloned(),
            Persistence::Memory => None,
        };
        let relogin = private.get("relogin").cloned();
        let signed_out = private.get("signed-out").cloned();
        let seed = 0x9E37_79B9_7F4A_7C15 ^ (self.tabs.len() as u64 + 1);
        let session = restored(config, stored.as_deref(), relogin.as_deref(), signed_out.as_deref(), self.now, seed);
        self.tabs.push(Tab {
            session,
            private,
            resolved: Vec::new(),
            navigations: Vec::new(),
            popups: Vec::new(),
            reports: Vec::new(),
            address: Vec::new(),
            refuse_token_writes: false,
            changes: 0,
            stored: 0,
            heard: Vec::new(),
            aborted: Vec::new(),
        });
        self.tabs.len() - 1
    }

    fn waiter(&mut self) -> Waiter {
        self.next_waiter += 1;
        self.next_waiter
    }

    /// Stores a token set issued by the server (as if signed in earlier), expiring `expires_in_s` from now.
    fn seed_tokens(&mut self, expires_in_s: i64) -> String {
        let (_, body) = self.server.tokens();
        let mut t = parse_token_response(200, None, body.as_bytes(), self.now).unwrap_or_else(|e| panic!("{e}"));
        t.expires_at_ms = self.now.saturating_add_signed(expires_in_s * 1000);
        let text = t.to_storage_for(&client());
        self.shared.insert("tokens", text.clone());
        text
    }

    fn is_private(&self, tab: usize) -> bool {
        self.tabs[tab].session.config().persistence != Persistence::Shared
    }

    /// Executes every action of every tab until nothing is left (answers stay on the wire until delivered).
    fn settle(&mut self) {
        loop {
            let mut did = false;
            for tab in 0..self.tabs.len() {
                while let Some(action) = self.tabs[tab].session.poll_action() {
                    did = true;
                    self.execute(tab, action);
                }
            }
            if !did {
                return;
            }
        }
    }

    fn execute(&mut self, tab: usize, action: Action) {
        let now = self.now;
        match action {
            Action::Send(request) => self.wire.push_back((tab, request)),
            Action::Abort { request } => {
                self.wire.retain(|(t, r)| *t != tab || request_id(r) != request);
                self.tabs[tab].aborted.push(request);
            }
            Action::ReadBody { .. } => panic!("the harness always gives bodies"),
            Action::Lock { name } => {
                assert_eq!(name, "genesys-auth:cid:shared");
                self.lock_queue.push_back(tab);
                self.grant_lock();
            }
            Action::Unlock => {
                // Released by the holder, or a grant that came after the machine stopped wanting it.
                assert_eq!(self.lock, Some(tab), "tab {tab} released a lock it does not hold");
                self.lock = None;
                self.grant_lock();
            }
            Action::Store { slot, place, text } => {
                assert_eq!(place.key, format!("genesys-auth:cid:{}", slot.name()));
                self.tabs[tab].stored += 1;
                if slot == Slot::Tokens && self.tabs[tab].refuse_token_writes {
                    self.tabs[tab].session.store_failed(slot, "QuotaExceededError");
                } else if place.area == Area::Shared {
                    assert!(!self.is_private(tab) && slot == Slot::Tokens, "only shared tokens are shared");
                    assert_eq!(self.lock, Some(tab), "tab {tab} wrote the shared tokens without the lock");
                    self.shared.insert("tokens", text.secret().to_string());
                } else {
                    self.tabs[tab].private.insert(slot.name(), text.secret().to_string());
                }
            }
            Action::Remove { slot, place } => {
                if place.area == Area::Shared {
                    assert_eq!(self.lock, Some(tab), "tab {tab} removed the shared tokens without the lock");
                    self.shared.remove("tokens");
                } else {
                    self.tabs[tab].private.remove(slot.name());
                }
            }
            Action::Announce(announcement) => {
                for other in (0..self.tabs.len()).filter(|o| *o != tab) {
                    if self.tabs[other].session.config().persistence == Persistence::Shared {
                        // As the browser executor does: the announcement with what this tab's storage holds.
                        let stored = self.view(other);
                        let event = Event::Announced { announcement, stored: stored.as_deref() };
                        self.tabs[other].session.handle(event, now);
                        self.tabs[other].heard.push(announcement);
                    }
                }
            }
            Action::Navigate { url } => self.tabs[tab].navigations.push(url),
            Action::OpenPopup { url, state } => self.tabs[tab].popups.push((url, state)),
            Action::ClosePopup => {}
            Action::ReplaceAddress { url } => self.tabs[tab].address.push(url),
            Action::Resolve { waiters, outcome } => {
                for w in waiters {
                    let copy = match &outcome {
                        Ok(Outcome::Token(t)) => Ok(Outcome::Token(t.clone())),
                        Ok(Outcome::Refreshed) => Ok(Outcome::Refreshed),
                        Ok(Outcome::SignedIn { return_to }) => Ok(Outcome::SignedIn { return_to: return_to.clone() }),
                        Ok(Outcome::NoCallback) => Ok(Outcome::NoCallback),
                        Ok(Outcome::Navigating) => Ok(Outcome::Navigating),
                        Ok(Outcome::Response { request }) => Ok(Outcome::Response { request: *request }),
                        Ok(Outcome::SignedOut) => Ok(Outcome::SignedOut),
                        Err(e) => Err(e.clone()),
                    };
                    self.tabs[tab].resolved.push((w, copy));
                }
            }
            Action::Retrying(_) => {}
            Action::Changed => self.tabs[tab].changes += 1,
            Action::Report(e) => self.tabs[tab].reports.push(e),
        }
    }

    fn grant_lock(&mut self) {
        if self.lock.is_some() {
            return;
        }
        if let Some(next) = self.lock_queue.pop_front() {
            self.lock = Some(next);
            let stored = self.view(next);
            self.tabs[next].session.lock_granted(stored.as_deref(), self.now);
        }
    }

    /// Delivers the oldest request on the wire to the server and its answer back; false when the wire is empty.
    fn deliver_one(&mut self) -> bool {
        let Some((tab, request)) = self.wire.pop_front() else { return false };
        let now = self.now;
        match request {
            Request::Token { id, request } => {
                let answer = self.server.token_post(request.body());
                self.reply(tab, id, answer, now);
            }
            Request::Api { id, url, token, .. } => {
                self.server.api_calls.push((url, token.secret().to_string()));
                let (status, body) = self.server.api_script.pop_front().unwrap_or((200, r#"{"name":"Alex"}"#));
                let reply = Reply::Http { status, retry_after: None, body: Some(body.as_bytes()) };
                self.tabs[tab].session.answer(id, reply, now);
            }
            Request::Revoke { id, token, .. } => {
                self.server.revoked.push(token.secret().to_string());
                self.tabs[tab].session.answer(id, Reply::Http { status: 204, retry_after: None, body: Some(b"") }, now);
            }
        }
        true
    }

    fn reply(&mut self, tab: usize, id: RequestId, answer: Option<(u16, Option<&'static str>, String)>, now: u64) {
        let session = &mut self.tabs[tab].session;
        match &answer {
            Some((status, retry_after, body)) => {
                session.answer(
                    id,
                    Reply::Http { status: *status, retry_after: *retry_after, body: Some(body.as_bytes()) },
                    now,
                );
            }
            None => session.answer(id, Reply::Network { detail: "connection reset" }, now),
        }
    }

    /// Settles, delivers everything on the wire, and settles again, until quiet (timers are not advanced).
    fn run(&mut self) {
        self.settle();
        for delivered in 0.. {
            // Requests that beget requests without end (a retry loop) fail the test instead of hanging it.
            assert!(delivered < 100_000, "requests keep coming: a loop");
            if !self.deliver_one() {
                return;
            }
            self.settle();
        }
    }

    /// Advances the clock to each tab's next timer in turn, up to `until`, running everything in between.
    fn run_until(&mut self, until: u64) {
        self.run();
        for round in 0.. {
            // A due timer that handling does not clear would fire forever: a failure, not a hang.
            assert!(round < 100_000, "a timer stays due after it was handled");
            let next = self.tabs.iter().filter_map(|t| t.session.poll_timeout()).min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    for tab in 0..self.tabs.len() {
                        self.tabs[tab].session.handle(Event::Timeout, self.now);
                    }
                    self.run();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    fn outcome(&self, tab: usize, waiter: Waiter) -> &Result<Outcome, Error> {
        let found = self.tabs[tab].resolved.iter().filter(|(w, _)| *w == waiter).collect::<Vec<_>>();
        assert_eq!(found.len(), 1, "waiter {waiter} of tab {tab} resolved {} times", found.len());
        &found[0].1
    }

    fn token_of(&self, tab: usize, waiter: Waiter) -> String {
        match self.outcome(tab, waiter) {
            Ok(Outcome::Token(t)) => t.secret().to_string(),
            other => panic!("waiter {waiter}: {other:?}"),
        }
    }

    fn error_of(&self, tab: usize, waiter: Waiter) -> &'static str {
        match self.outcome(tab, waiter) {
            Err(e) => e.code(),
            other => panic!("waiter {waiter}: expected an error, got {other:?}"),
        }
    }

    fn want_token(&mut self, tab: usize) -> Waiter {
        let w = self.waiter();
        let now = self.now;
        self.tabs[tab].session.want_token(w, now);
        w
    }

    /// A caller's API call for the profile, now.
    fn fetch(&mut self, tab: usize) -> Waiter {
        let w = self.waiter();
        let now = self.now;
        self.tabs[tab].session.fetch(w, "/api/v2/users/me", now);
        w
    }
}

#[test]
fn a_fresh_token_is_handed_out_without_any_request() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-1");
    assert_eq!(world.server.refresh_posts, 0);
    let session = &world.tabs[tab].session;
    assert_eq!(session.expires_at_ms(), Some(T0 + 3_600_000));
    let debug = format!("{session:?}");
    assert!(debug.contains("client_id: \"cid\"") && debug.contains("signed_in: true"), "{debug}");
    assert!(!debug.contains("access-1"), "no token in Debug: {debug}");
}

#[test]
fn a_hundred_callers_on_an_expired_token_share_one_refresh() {
    let mut world = World::new();
    world.seed_tokens(-10);
    let tab = world.open(World::config(Persistence::Shared));
    let waiters: Vec<Waiter> = (0..100).map(|_| world.want_token(tab)).collect();
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    for w in waiters {
        assert_eq!(world.token_of(tab, w), "access-2");
    }
}

#[test]
fn refresh_happens_ahead_of_expiry_within_the_skew() {
    let mut world = World::new();
    let text = world.seed_tokens(30); // expires in 30 s, skew is 60 s
    let tab = world.open_with_private(World::config(Persistence::Private), HashMap::from([("tokens", text)]));
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    assert_eq!(world.token_of(tab, w), "access-2");
}

#[test]
fn four_tabs_with_rotating_refresh_tokens_refresh_once_and_never_reuse_one() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tabs: Vec<usize> = (0..4).map(|_| world.open(World::config(Persistence::Shared))).collect();
    for round in 0..3 {
        let before = world.server.refresh_posts;
        // Every tab asks at once, 25 callers each, before any answer is on its way back.
        let mut waiters = Vec::new();
        for &tab in &tabs {
            for _ in 0..25 {
                waiters.push((tab, world.want_token(tab)));
            }
        }
        world.run();
        assert_eq!(world.server.refresh_posts - before, 1, "round {round}: one refresh for 4 tabs x 25 callers");
        let tokens: Vec<String> = waiters.iter().map(|(t, w)| world.token_of(*t, *w)).collect();
        assert!(tokens.iter().all(|t| *t == tokens[0]), "round {round}: one token for all: {tokens:?}");
        world.now += 3_600_000; // past expiry again
    }
    assert_eq!(world.server.invalid_grants, 0);
}

/// Tabs a and b sharing local storage, which holds expired tokens.
fn two_shared_tabs_on_expired_tokens() -> (World, usize, usize) {
    let mut world = World::new();
    world.seed_tokens(-1);
    let a = world.open(World::config(Persistence::Shared));
    let b = world.open(World::config(Persistence::Shared));
    (world, a, b)
}

#[test]
fn a_tab_that_waited_for_the_lock_takes_the_token_another_tab_refreshed() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    let wa = world.want_token(a);
    world.settle(); // a holds the lock and its refresh is on the wire
    let wb = world.want_token(b);
    world.settle(); // b waits for the lock
    assert_eq!(world.lock, Some(a));
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    assert_eq!(world.token_of(a, wa), world.token_of(b, wb));
    assert_eq!(world.lock, None, "the lock is released");
}

/// Tabs a and b on expired shared tokens, b's view of storage lagging: a refreshes for its caller while b's caller
/// waits for the lock; a's new tokens are stored and announced, and b, granted the lock, still reads the old ones.
fn a_refresh_that_a_lagging_tab_does_not_see() -> (World, usize, Waiter, usize, Waiter) {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    world.lag(b);
    let wa = world.want_token(a);
    world.settle(); // a holds the lock and its refresh is on the wire
    let wb = world.want_token(b);
    world.run();
    (world, a, wa, b, wb)
}

#[test]
fn a_tab_whose_storage_lags_the_announcement_awaits_the_new_tokens_instead_of_refreshing_again() {
    let (mut world, a, wa, b, wb) = a_refresh_that_a_lagging_tab_does_not_see();
    assert_eq!(world.server.refresh_posts, 1, "b did not spend the old refresh token");
    assert_eq!(world.lock, None, "b let the lock go while it waits");
    assert!(world.tabs[b].resolved.is_empty(), "b's caller waits for the announced tokens");
    assert!(world.tabs[b].session.poll_timeout().is_some(), "the wait is bounded");
    world.catch_up(b, true);
    world.run();
    assert_eq!(world.token_of(b, wb), world.token_of(a, wa));
    assert_eq!((world.server.refresh_posts, world.server.invalid_grants), (1, 0));
    // Later callers are served from the tokens it took.
    let again = world.want_token(b);
    world.run();
    assert_eq!(world.token_of(b, again), world.token_of(a, wa));
}

#[test]
fn a_tab_that_awaited_announced_tokens_in_vain_refreshes_under_the_lock_after_the_bound() {
    let (mut world, a, wa, b, wb) = a_refresh_that_a_lagging_tab_does_not_see();
    assert!(world.tabs[b].resolved.is_empty());
    // Storage catches up without telling b: after the bound b takes the lock again and reads it.
    world.catch_up(b, false);
    let start = world.now;
    world.run_until(start + ANNOUNCED_WAIT_MS - 1);
    assert!(world.tabs[b].resolved.is_empty(), "not before the bound");
    world.run_until(start + ANNOUNCED_WAIT_MS);
    assert_eq!(world.token_of(b, wb), world.token_of(a, wa));
    assert_eq!((world.server.refresh_posts, world.server.invalid_grants), (1, 0));
}

#[test]
fn a_further_announcement_does_not_prolong_the_wait_for_announced_tokens() {
    let (mut world, _, _, b, _) = a_refresh_that_a_lagging_tab_does_not_see();
    let until = world.tabs[b].session.poll_timeout();
    assert_eq!(until, Some(T0 + ANNOUNCED_WAIT_MS), "the wait ends a bound after the announcement");
    // Another announcement half-way, which this tab's storage still does not show.
    world.now += ANNOUNCED_WAIT_MS / 2;
    let (stored, now) = (world.view(b), world.now);
    world.tabs[b].session.tokens_announced(stored.as_deref(), now);
    world.settle();
    assert_eq!(world.tabs[b].session.poll_timeout(), until, "the wait is not prolonged");
    assert!(world.tabs[b].resolved.is_empty(), "b's caller still waits");
}

#[test]
fn a_lock_granted_when_the_wait_for_announced_tokens_is_over_refreshes_at_once() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    world.lag(b);
    let wa = world.want_token(a);
    world.run(); // a refreshed and announced at T0; b's storage does not show it
    assert!(world.token_of(a, wa).starts_with("access-"));
    // b's caller comes exactly when a wait for the announced tokens would be over: b refreshes under the lock.
    world.now = T0 + ANNOUNCED_WAIT_MS;
    world.want_token(b);
    world.settle();
    assert!(
        world.wire.iter().any(|(tab, r)| *tab == b && matches!(r, Request::Token { .. })),
        "b sends its refresh instead of waiting again"
    );
}

#[test]
fn announced_tokens_this_tab_already_sees_leave_no_wait_behind() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    let wa = world.want_token(a);
    world.run(); // a's tokens are stored and announced, and b reads them at once
    let w = world.waiter();
    let now = world.now;
    world.tabs[b].session.want_refresh(w, now); // b's caller asks for a refresh right after
    world.run();
    assert_eq!(world.server.refresh_posts, 2, "b refreshed at once, it awaited nothing");
    assert!(matches!(world.outcome(b, w), Ok(Outcome::Refreshed)));
    assert_eq!(world.server.invalid_grants, 0, "with the token a's refresh rotated in: {}", world.token_of(a, wa));
}

#[test]
fn announced_tokens_that_arrive_expired_are_refreshed_not_handed_out() {
    let (mut world, a, wa, b, wb) = a_refresh_that_a_lagging_tab_does_not_see();
    // The storage event brings a's tokens only after they expired.
    world.now += 3_600_000 + 1;
    world.catch_up(b, true);
    world.run();
    assert_eq!(world.server.refresh_posts, 2, "b refreshed the expired tokens");
    assert_ne!(world.token_of(b, wb), world.token_of(a, wa), "b's caller got a fresh token, not the expired one");
    assert_eq!(world.server.invalid_grants, 0);
}

#[test]
fn a_refused_refresh_signs_in_again_once_and_a_second_failure_is_reported_as_a_loop() {
    let mut world = World::new();
    world.seed_tokens(-1);
    world.server.live_refresh = None; // revoked: the refresh is refused
    let config = World::config(Persistence::Shared);
    let tab = world.open(config.clone());
    world.tabs[tab].session.set_location("http://localhost:3000/inbox?tab=2");
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.tabs[tab].navigations.len(), 1, "one automatic sign-in");
    let url = &world.tabs[tab].navigations[0];
    assert!(url.starts_with("http://127.0.0.1:8080/oauth/authorize?"), "{url}");
    assert!(world.tabs[tab].private.contains_key("pending"), "the pending login is parked");
    let pending = world.tabs[tab].private.get("pending").cloned().unwrap_or_default();
    assert!(pending.contains("return_to=%2Finbox%3Ftab%3D2"), "it comes back to the page it left: {pending}");
    assert!(world.tabs[tab].private.contains_key("relogin"), "the loop guard is stored");
    assert!(!world.shared.contains_key("tokens"), "the dead session is removed");
    // The caller waits while the page navigates; if the page is still there later, it hears why.
    assert!(world.tabs[tab].resolved.is_empty());
    world.run_until(world.now + 10_000);
    assert_eq!(world.error_of(tab, w), "login_required");

    // The page came back signed in, and 30 s later the session is refused again: no second redirect.
    let private = world.tabs[tab].private.clone();
    world.seed_tokens(-1);
    world.server.live_refresh = None;
    world.now += 20_000;
    let again = world.open_with_private(config.clone(), private);
    let w2 = world.want_token(again);
    world.run();
    assert_eq!(world.error_of(again, w2), "relogin_loop");
    assert!(world.tabs[again].navigations.is_empty());

    // A minute after the last automatic sign-in, signing in again is allowed.
    let private = world.tabs[again].private.clone();
    world.now += 60_000;
    world.seed_tokens(-1);
    world.server.live_refresh = None;
    let later = world.open_with_private(config, private);
    let w3 = world.want_token(later);
    world.run();
    assert_eq!(world.tabs[later].navigations.len(), 1);
    assert!(world.tabs[later].resolved.iter().all(|(w, _)| *w != w3), "parked while navigating");
}

#[test]
fn inside_a_frame_a_dead_session_is_reported_not_redirected() {
    let mut world = World::new();
    world.seed_tokens(-1);
    world.server.live_refresh = None;
    let mut config = World::config(Persistence::Shared);
    config.framed = true;
    let tab = world.open(config);
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.error_of(tab, w), "login_required");
    assert!(world.tabs[tab].navigations.is_empty());
}

#[test]
fn a_refused_refresh_never_throws_away_a_still_valid_access_token() {
    let mut world = World::new();
    world.seed_tokens(30); // valid for 30 s more, inside the 60 s skew
    world.server.live_refresh = None;
    let tab = world.open(World::config(Persistence::Shared));
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-1", "calls go on with the valid token");
    assert!(world.tabs[tab].session.is_authenticated());
    assert!(!world.tabs[tab].session.has_refresh_token(), "the refused refresh token is forgotten");
    let stored = TokenSet::from_storage_for(&world.shared["tokens"], &client()).unwrap_or_else(|e| panic!("{e}"));
    assert!(stored.refresh.is_none(), "and removed from storage: no other tab sends it again");
    // More calls: no further refresh attempt while the token lasts.
    let w2 = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w2), "access-1");
    assert_eq!(world.server.refresh_posts, 1);
    // An explicit refresh says why it cannot (no refresh token), without ending the session.
    let r = world.waiter();
    let now = world.now;
    world.tabs[tab].session.want_refresh(r, now);
    world.run();
    assert_eq!(world.error_of(tab, r), "no_refresh_token");
    assert!(world.tabs[tab].session.is_authenticated());
    // Once it expires, the session-ending path runs.
    world.now += 31_000;
    let w3 = world.want_token(tab);
    world.run();
    assert_eq!(world.tabs[tab].navigations.len(), 1);
    assert!(!world.tabs[tab].session.is_authenticated());
    world.run_until(world.now + 10_000);
    assert_eq!(world.error_of(tab, w3), "login_required");
}

#[test]
fn without_a_refresh_token_calls_use_the_token_until_it_expires() {
    // A standards server that grants no refresh token.
    let mut world = World::new();
    world.server.issue_refresh = false;
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.now += 3_570_000; // 30 s left
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-1");
    assert_eq!(world.server.refresh_posts, 0, "no refresh token, no refresh request");
}

#[test]
fn a_401_is_answered_by_one_refresh_and_one_retry() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.api_script.push_back((401, r#"{"code":"authentication.required"}"#));
    let w = world.fetch(tab);
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    let sent: Vec<&str> = world.server.api_calls.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(sent, ["access-1", "access-2"], "the retry carries the new token");
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::Response { .. })));
}

#[test]
fn a_second_401_ends_the_session() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let mut config = World::config(Persistence::Shared);
    config.relogin = false;
    let tab = world.open(config);
    world.server.api_script.push_back((401, r#"{"code":"bad.credentials"}"#));
    world.server.api_script.push_back((401, r#"{"code":"bad.credentials"}"#));
    let w = world.fetch(tab);
    world.run();
    assert_eq!(world.error_of(tab, w), "unauthorized");
    assert_eq!(world.server.api_calls.len(), 2);
    assert!(!world.tabs[tab].session.is_authenticated());
}

#[test]
fn an_idle_timeout_401_without_refresh_token_signs_in_again() {
    let mut world = World::new();
    world.server.issue_refresh = false; // Genesys issues none while the idle timeout is on
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.api_script.push_back((401, r#"{"code":"credentials.expired"}"#));
    let w = world.fetch(tab);
    world.run();
    assert_eq!(world.server.refresh_posts, 0);
    assert_eq!(world.tabs[tab].navigations.len(), 1, "silent re-login");
    world.run_until(world.now + 10_000);
    assert_eq!(world.error_of(tab, w), "unauthorized");
}

#[test]
fn a_429_storm_is_ridden_out_honouring_retry_after() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    for _ in 0..2 {
        world.server.script.push_back(Scripted::Status(429, Some("3"), "{}"));
    }
    let w = world.want_token(tab);
    let start = world.now;
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(start + 3_000), "waits exactly Retry-After");
    world.run_until(start + 2_999);
    assert_eq!(world.server.refresh_posts, 1, "nothing sent before Retry-After");
    world.run_until(start + 6_000);
    assert_eq!(world.server.refresh_posts, 3);
    assert_eq!(world.token_of(tab, w), "access-2");
}

#[test]
fn a_retry_after_beyond_the_cap_stops_at_once() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.script.push_back(Scripted::Status(429, Some("100000"), "{}"));
    let w = world.want_token(tab);
    world.run_until(world.now + 600_000);
    assert_eq!(world.server.refresh_posts, 1);
    assert_eq!(world.error_of(tab, w), "rate_limited");
    assert!(world.tabs[tab].session.is_authenticated(), "a transient failure keeps the session");
    assert_eq!(world.lock, None);
}

#[test]
fn transient_refresh_failures_are_retried_then_reported() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    for _ in 0..4 {
        world.server.script.push_back(Scripted::Status(503, None, "busy"));
    }
    let w = world.want_token(tab);
    world.run_until(world.now + 120_000);
    assert_eq!(world.server.refresh_posts, 4, "the policy's four attempts");
    assert_eq!(world.error_of(tab, w), "server_error");
    assert!(world.tabs[tab].session.is_authenticated());
    // And the network: one failure, then success.
    world.server.script.push_back(Scripted::Network);
    let w2 = world.want_token(tab);
    world.run_until(world.now + 120_000);
    assert_eq!(world.token_of(tab, w2), "access-2");
}

/// Signs a tab in through the redirect: login, the server's callback, the code exchange.
fn start_login(world: &mut World, tab: usize, return_to: Option<&str>) -> String {
    let (w, state) = begin_login(world, tab, return_to);
    world.run();
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::Navigating)));
    state
}

/// A redirect login started (its pending login parked, requests already on the wire left there): its caller and
/// the `state` of its authorize URL.
fn begin_login(world: &mut World, tab: usize, return_to: Option<&str>) -> (Waiter, String) {
    let w = world.waiter();
    let now = world.now;
    let options = LoginOptions { return_to: return_to.map(str::to_string), ..LoginOptions::default() };
    world.tabs[tab].session.login(w, &options, now);
    world.settle();
    let url = world.tabs[tab].navigations.last().cloned().unwrap_or_default();
    (w, url.split("state=").nth(1).and_then(|s| s.split('&').next()).unwrap_or_default().to_string())
}

fn callback(world: &mut World, tab: usize, url: &str) -> Waiter {
    let w = world.waiter();
    let now = world.now;
    let pending = world.tabs[tab].private.get("pending").cloned();
    world.tabs[tab].session.callback(w, url, pending.as_deref(), now);
    w
}

#[test]
fn login_parameters_reach_the_login_page_and_a_refused_one_stops_the_login() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let w = world.waiter();
    let params = [("org", "acme"), ("provider", "okta"), ("login_hint", "alex@example.com")];
    let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let options = LoginOptions { params, ..LoginOptions::default() };
    let now = world.now;
    world.tabs[tab].session.login(w, &options, now);
    world.run();
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::Navigating)));
    let url = world.tabs[tab].navigations.last().cloned().unwrap_or_default();
    assert!(url.contains("&org=acme&provider=okta&login_hint=alex%40example.com"), "{url}");
    // A parameter the library owns: the login fails with the reason, nothing is parked, nothing navigates.
    let tab2 = world.open(World::config(Persistence::Private));
    let w2 = world.waiter();
    let options = LoginOptions {
        params: vec![("redirect_uri".into(), "https://evil.example/".into())],
        ..LoginOptions::default()
    };
    world.tabs[tab2].session.login(w2, &options, now);
    world.run();
    assert_eq!(world.error_of(tab2, w2), "invalid_config");
    assert!(world.tabs[tab2].navigations.is_empty());
    assert!(!world.tabs[tab2].private.contains_key("pending"));
}

#[test]
fn a_redirect_login_comes_back_signed_in_to_its_path() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let state = start_login(&mut world, tab, Some("/inbox"));
    let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}&keep=1"));
    world.run();
    assert_eq!(world.outcome(tab, w), &Ok(Outcome::SignedIn { return_to: Some("/inbox".into()) }));
    assert_eq!(world.tabs[tab].address, ["http://localhost:3000/?keep=1", "/inbox"]);
    assert!(!world.tabs[tab].private.contains_key("pending"), "used once");
    assert!(world.tabs[tab].private.contains_key("tokens"));
    assert!(world.tabs[tab].session.is_authenticated());
    // The same callback again (a replay): no pending login any more.
    let again = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.run();
    assert_eq!(world.error_of(tab, again), "no_pending_login");
    assert_eq!(world.server.code_posts, 1);
}

#[test]
fn a_spent_code_is_never_sent_again() {
    for (answer, code) in [
        (Scripted::Status(503, None, "busy"), "server_error"),
        (Scripted::Status(502, None, "bad gateway"), "server_error"),
        (Scripted::Network, "network_error"),
    ] {
        let mut world = World::new();
        let tab = world.open(World::config(Persistence::Private));
        let state = start_login(&mut world, tab, None);
        world.server.script.push_back(answer);
        let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
        world.run_until(world.now + 120_000);
        assert_eq!(world.server.code_posts, 1, "{code}");
        assert_eq!(world.error_of(tab, w), code);
    }
    // 429 says the request was not processed: the code is still unspent and is sent once more.
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let state = start_login(&mut world, tab, None);
    world.server.script.push_back(Scripted::Status(429, Some("1"), "{}"));
    let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.run_until(world.now + 5_000);
    assert_eq!(world.server.code_posts, 2);
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::SignedIn { .. })));
}

#[test]
fn a_forged_or_foreign_callback_is_refused_and_nothing_is_sent() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let state = start_login(&mut world, tab, None);
    let forged = callback(&mut world, tab, "http://localhost:3000/?code=c1&state=forged");
    world.run();
    assert_eq!(world.error_of(tab, forged), "state_mismatch");
    // A pending login parked by another configuration (another client) is not used.
    let other =
        Client::new(Region::custom("http://127.0.0.1:8080").unwrap_or_else(|e| panic!("{e}")), "other", REDIRECT)
            .unwrap_or_else(|e| panic!("{e}"));
    let (_, pending) = other.authorize().build(&mut Seeded(7), world.now).unwrap_or_else(|e| panic!("{e}"));
    let state2 = pending.state().secret().to_string();
    world.tabs[tab].private.insert("pending", pending.to_storage());
    let foreign = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state2}"));
    world.run();
    assert_eq!(world.error_of(tab, foreign), "corrupt_storage");
    // An error callback must carry the state too.
    let _ = start_login(&mut world, tab, None);
    let bare = callback(&mut world, tab, "http://localhost:3000/?error=access_denied&error_description=click+here");
    world.run();
    assert_eq!(world.error_of(tab, bare), "missing_parameter");
    assert_eq!(world.server.code_posts, 0);
    let _ = state;
}

#[test]
fn a_page_without_a_callback_does_nothing() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let w = callback(&mut world, tab, "http://localhost:3000/?tab=2");
    world.run();
    assert_eq!(world.outcome(tab, w), &Ok(Outcome::NoCallback));
    assert!(world.tabs[tab].address.is_empty());
}

#[test]
fn a_refused_storage_write_keeps_the_session_in_memory_and_is_reported_once() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.tabs[tab].refuse_token_writes = true;
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-2");
    world.now += 3_600_000;
    let w2 = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w2), "access-3", "memory held the rotated refresh token");
    assert_eq!(world.server.invalid_grants, 0);
    let reports: Vec<&str> = world.tabs[tab].reports.iter().map(Error::code).collect();
    assert_eq!(reports, ["storage_unavailable"], "reported once");
    assert!(world.tabs[tab].session.is_authenticated());
}

#[test]
fn a_refused_write_of_the_pending_login_stops_the_navigation() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Private));
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.login(w, &LoginOptions::default(), now);
    // The driver executes the Store, which the browser refuses, before the next action.
    match world.tabs[tab].session.poll_action() {
        Some(Action::Store { slot: Slot::Pending, .. }) => world.tabs[tab].session.store_failed(Slot::Pending, "quota"),
        other => panic!("{other:?}"),
    }
    world.run();
    assert!(world.tabs[tab].navigations.is_empty());
    assert_eq!(world.error_of(tab, w), "storage_unavailable");
}

#[test]
fn the_token_goes_only_to_the_regions_api_origin() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    for bad in
        ["@127.0.0.2:8081/x", ".evil.example/", "//evil.example/x", "http://127.0.0.1:80800/x", "https://evil.example/"]
    {
        let w = world.waiter();
        let now = world.now;
        world.tabs[tab].session.fetch(w, bad, now);
        world.run();
        assert_eq!(world.error_of(tab, w), "invalid_config", "{bad}");
    }
    assert!(world.server.api_calls.is_empty(), "no request carried the token");
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.fetch(w, "http://127.0.0.1:8080/api/v2/users/me", now);
    world.run();
    assert_eq!(world.server.api_calls[0].0, "http://127.0.0.1:8080/api/v2/users/me");
}

#[test]
fn tokens_stored_for_one_region_are_refused_under_another() {
    let mut world = World::new();
    world.seed_tokens(3600); // stored for http://127.0.0.1:8080
    let mut config = Config::new(client_for("https://evil.example"));
    config.persistence = Persistence::Shared;
    let tab = world.open(config);
    assert!(!world.tabs[tab].session.is_authenticated());
    assert_eq!(world.tabs[tab].session.discarded().map(Error::code), Some("foreign_tokens"));
    world.settle();
    assert!(!world.shared.contains_key("tokens"), "discarded");
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.error_of(tab, w), "login_required");
    assert_eq!(world.server.refresh_posts, 0, "the refresh token was not sent to the other region");
}

#[test]
fn other_tabs_hear_of_new_tokens_and_of_logout() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    let _ = world.want_token(a);
    world.run();
    assert_eq!(world.tabs[b].session.expires_at_ms(), world.tabs[a].session.expires_at_ms());
    assert!(world.tabs[b].changes >= 1);
    let w = world.waiter();
    let now = world.now;
    world.tabs[a].session.logout(w, None, now);
    world.run();
    assert_eq!(world.outcome(a, w), &Ok(Outcome::SignedOut));
    assert_eq!(world.server.revoked, ["access-2"]);
    assert!(!world.tabs[b].session.is_authenticated(), "signed out in every tab");
    assert!(!world.shares_tokens());
}

#[test]
fn sso_logout_goes_to_the_login_hosts_logout_page() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.logout(w, Some("http://localhost:3000/"), now);
    world.run();
    let nav = &world.tabs[tab].navigations;
    assert_eq!(nav.len(), 1);
    assert!(nav[0].starts_with("http://127.0.0.1:8080/logout?client_id=cid&redirect_uri="), "{}", nav[0]);
}

#[test]
fn inside_a_frame_login_opens_a_popup_and_takes_only_its_own_callback() {
    let mut world = World::new();
    let mut config = World::config(Persistence::Memory);
    config.framed = true;
    let tab = world.open(config);
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.login(w, &LoginOptions::default(), now);
    world.run();
    assert!(world.tabs[tab].navigations.is_empty(), "the frame stays put");
    let (url, state) = world.tabs[tab].popups[0].clone();
    assert!(url.contains(&format!("state={state}")));
    assert!(!world.tabs[tab].session.popup_callback("http://localhost:3000/?code=x&state=other", now));
    assert!(world.tabs[tab].session.popup_callback(&format!("http://localhost:3000/?code=x&state={state}"), now));
    world.run();
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::SignedIn { .. })));
    assert!(world.tabs[tab].session.is_authenticated());
}

#[test]
fn a_popup_login_times_out_or_reports_a_closed_or_blocked_popup() {
    let mut world = World::new();
    let mut config = World::config(Persistence::Memory);
    config.framed = true;
    let tab = world.open(config.clone());
    let now = world.now;
    let timeout = LoginOptions { timeout_ms: Some(1_000), ..LoginOptions::default() };
    let w = world.waiter();
    world.tabs[tab].session.login(w, &timeout, now);
    world.run_until(now + 1_000);
    assert_eq!(world.error_of(tab, w), "popup_timeout");
    let w2 = world.waiter();
    world.tabs[tab].session.login(w2, &LoginOptions::default(), world.now);
    world.tabs[tab].session.popup_closed();
    world.run();
    assert_eq!(world.error_of(tab, w2), "popup_closed");
    let w3 = world.waiter();
    world.tabs[tab].session.login(w3, &LoginOptions::default(), world.now);
    world.tabs[tab].session.popup_blocked();
    world.run();
    assert_eq!(world.error_of(tab, w3), "popup_blocked");
    // No way to hear from a popup: refused before any window opens.
    config.popup_capable = false;
    let t2 = world.open(config);
    let w4 = world.waiter();
    world.tabs[t2].session.login(w4, &LoginOptions::default(), world.now);
    world.run();
    assert_eq!(world.error_of(t2, w4), "invalid_config");
    assert!(world.tabs[t2].popups.is_empty());
}

#[test]
fn tampered_or_expired_storage_is_discarded_at_start() {
    let mut world = World::new();
    world.shared.insert("tokens", "v=1&access=a&access=b".into());
    let tab = world.open(World::config(Persistence::Shared));
    assert_eq!(world.tabs[tab].session.discarded().map(Error::code), Some("corrupt_storage"));
    world.server.issue_refresh = false;
    world.seed_tokens(-5); // expired and no refresh token: useless
    let t2 = world.open(World::config(Persistence::Shared));
    assert!(!world.tabs[t2].session.is_authenticated());
    assert!(world.tabs[t2].session.discarded().is_none());
    world.settle();
    assert!(!world.shared.contains_key("tokens"));
}

#[test]
fn announcements_are_made_only_with_shared_storage() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let mut private = HashMap::new();
    private.insert("tokens", world.shared["tokens"].clone());
    let tab = world.open_with_private(World::config(Persistence::Private), private);
    let w = world.want_token(tab);
    let mut announced = false;
    world.settle();
    while let Some((t, req)) = world.wire.pop_front() {
        world.wire.push_front((t, req));
        world.deliver_one();
        while let Some(a) = world.tabs[tab].session.poll_action() {
            announced |= matches!(a, Action::Announce(Announcement::Tokens));
            world.execute(tab, a);
        }
    }
    assert!(!announced);
    assert_eq!(world.token_of(tab, w), "access-2");
}

#[test]
fn errors_never_carry_the_token_values_held_even_short_ones() {
    let mut world = World::new();
    world.seed_tokens(-1); // refresh token "refresh-1": too short for pattern-based redaction
    let tab = world.open(World::config(Persistence::Shared));
    world.server.script.push_back(Scripted::Status(200, None, r#"{"echo":"refresh-1 access-1"}"#));
    let w = world.want_token(tab);
    world.run();
    let shown = format!("{:?} {}", world.outcome(tab, w), world.error_of(tab, w));
    assert_eq!(world.error_of(tab, w), "malformed_response");
    assert!(!shown.contains("refresh-1") && !shown.contains("access-1"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn keep_fresh_refreshes_ahead_of_expiry_with_nobody_asking_and_a_failure_waits_before_the_next_try() {
    let mut world = World::new();
    world.server.expires_in_s = 300;
    let text = world.seed_tokens(300);
    let mut config = World::config(Persistence::Private);
    config.keep_fresh = true;
    let tab = world.open_with_private(config, HashMap::from([("tokens", text)]));
    let start = world.now;
    // Due at the skew (60 s) before expiry, not before.
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(start + 240_000));
    world.run_until(start + 239_000);
    assert_eq!(world.server.refresh_posts, 0);
    // Three token lifetimes pass: each token is replaced ahead of its expiry, nobody asking.
    world.run_until(start + 900_000);
    assert_eq!(world.server.refresh_posts, 3, "at 240, 480 and 720 s: one per token, 60 s before its end");
    assert!(world.tabs[tab].changes >= 3, "listeners heard of each new token");
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-4", "the newest token, without a refresh on demand");
    assert_eq!(world.server.refresh_posts, 3);
    // A background refresh that fails (the token still valid) waits 30 s before the next try, however it failed.
    let posts = world.server.refresh_posts;
    for _ in 0..4 {
        world.server.script.push_back(Scripted::Status(503, None, "busy"));
    }
    let due = world.tabs[tab].session.poll_timeout().unwrap_or_default();
    world.run_until(due + 25_000);
    assert_eq!(world.server.refresh_posts, posts + 4, "the policy's four attempts");
    let next = world.tabs[tab].session.poll_timeout().unwrap_or_default();
    assert!(next >= due + 30_000, "next try {} ms after the failed one", next - due);
    // Off again: nothing is due.
    world.tabs[tab].session.set_keep_fresh(false);
    assert_eq!(world.tabs[tab].session.poll_timeout(), None);
}

#[test]
fn keep_fresh_without_a_refresh_token_never_signs_in_again_behind_the_users_back() {
    let mut world = World::new();
    world.server.issue_refresh = false;
    let text = world.seed_tokens(300);
    let mut config = World::config(Persistence::Private);
    config.keep_fresh = true;
    let tab = world.open_with_private(config, HashMap::from([("tokens", text)]));
    assert_eq!(world.tabs[tab].session.poll_timeout(), None);
    world.run_until(world.now + 600_000);
    assert_eq!(world.server.refresh_posts + world.server.code_posts, 0);
    assert!(world.tabs[tab].navigations.is_empty());
}

#[test]
fn the_next_timer_is_the_soonest_of_all_pending_ones() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let mut config = World::config(Persistence::Shared);
    config.keep_fresh = true;
    let tab = world.open(config);
    let background = T0 + 3_600_000 - world.tabs[tab].session.config().refresh_skew_ms;
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(background));
    // An API call answered 503 is retried after a backoff of at most a few seconds: that timer comes first.
    world.server.api_script.push_back((503, "{}"));
    let now = world.now;
    let w = world.fetch(tab);
    world.run();
    let next = world.tabs[tab].session.poll_timeout().unwrap_or(u64::MAX);
    assert!(next > now && next <= now + 10_000, "the retry's timer, not the background refresh: {next}");
    world.run_until(now + 10_000);
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::Response { .. })));
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(background), "then the background refresh again");
}

/// The requests a session asks to send now (other actions dropped).
fn sent(session: &mut Session) -> Vec<Request> {
    let mut out = Vec::new();
    while let Some(action) = session.poll_action() {
        if let Action::Send(r) = action {
            out.push(r);
        }
    }
    out
}

fn api_id(request: &Request) -> RequestId {
    match request {
        Request::Api { id, .. } => *id,
        other => panic!("not an API request: {other:?}"),
    }
}

#[test]
fn concurrent_requests_get_their_own_ids_and_their_own_answers() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    let (a, b) = (world.waiter(), world.waiter());
    let s = &mut world.tabs[tab].session;
    s.fetch(a, "/api/v2/users/me", T0);
    s.fetch(b, "/api/v2/users/me", T0);
    let requests = sent(s);
    assert_eq!(requests.len(), 2);
    let (ia, ib) = (api_id(&requests[0]), api_id(&requests[1]));
    assert_ne!(ia, ib, "each request has its own id");
    // Answered in the other order, each answer reaches its own caller.
    s.answer(ib, Reply::Http { status: 200, retry_after: None, body: Some(b"{}") }, T0);
    s.answer(ia, Reply::Http { status: 200, retry_after: None, body: Some(b"{}") }, T0);
    world.settle();
    assert_eq!(world.outcome(tab, a), &Ok(Outcome::Response { request: ia }));
    assert_eq!(world.outcome(tab, b), &Ok(Outcome::Response { request: ib }));
}

#[test]
fn a_network_failure_that_names_a_held_token_loses_it() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let mut config = World::config(Persistence::Shared);
    config.retry = genesys_auth::RetryPolicy::none();
    let tab = world.open(config);
    let w = world.waiter();
    let s = &mut world.tabs[tab].session;
    s.fetch(w, "/api/v2/users/me", T0);
    let id = api_id(&sent(s)[0]);
    s.answer(id, Reply::Network { detail: "proxy refused Bearer access-1 for refresh-1" }, T0);
    world.settle();
    let Err(Error::Network { detail }) = world.outcome(tab, w) else { panic!("{:?}", world.outcome(tab, w)) };
    assert_eq!(detail, "proxy refused Bearer [redacted] for [redacted]");
}

#[test]
fn a_refused_refresh_whose_description_names_the_token_loses_it() {
    let mut world = World::new();
    world.seed_tokens(30);
    let mut config = World::config(Persistence::Shared);
    config.relogin = false;
    config.retry = genesys_auth::RetryPolicy::none();
    let tab = world.open(config);
    world.server.script.push_back(Scripted::Status(
        400,
        None,
        r#"{"error":"invalid_request","error_description":"refresh-1 and access-1 are not for this client"}"#,
    ));
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.want_refresh(w, now);
    world.run();
    let message = world.outcome(tab, w).as_ref().err().map(ToString::to_string).unwrap_or_default();
    assert!(message.contains("invalid_request"), "{message}");
    assert!(!message.contains("refresh-1") && !message.contains("access-1"), "{message}");
}

#[test]
fn retry_delays_are_jittered_from_the_random_source() {
    let mut delays = std::collections::BTreeSet::new();
    for seed in 1..=8u64 {
        let mut world = World::new();
        world.seed_tokens(3600);
        let config = World::config(Persistence::Shared);
        let stored = world.shared.get("tokens").cloned();
        let mut s = restored(config, stored.as_deref(), None, None, T0, seed * 0x1234_5678_9abc);
        s.fetch(1, "/api/v2/users/me", T0);
        let id = api_id(&sent(&mut s)[0]);
        s.answer(id, Reply::Http { status: 503, retry_after: None, body: Some(b"{}") }, T0);
        while let Some(action) = s.poll_action() {
            if let Action::Retrying(r) = action {
                delays.insert(r.delay_ms);
            }
        }
    }
    assert!(delays.len() > 1, "eight sessions, one delay: {delays:?}");
}

#[test]
fn an_api_call_in_flight_survives_a_failed_refresh_of_another_caller() {
    let mut world = World::new();
    world.seed_tokens(90);
    let mut config = World::config(Persistence::Shared);
    config.relogin = false;
    let tab = world.open(config);
    let (inflight, waiting) = (world.waiter(), world.waiter());
    let s = &mut world.tabs[tab].session;
    s.fetch(inflight, "/api/v2/users/me", T0);
    let id = api_id(&sent(s)[0]);
    // Later the token has expired: the next call waits for a refresh, and the refresh is refused.
    world.now = T0 + 91_000;
    world.server.live_refresh = None;
    let now = world.now;
    world.tabs[tab].session.fetch(waiting, "/api/v2/users/me", now);
    world.run();
    assert_eq!(world.error_of(tab, waiting), "login_required");
    // The first call's answer still reaches its caller.
    world.tabs[tab].session.answer(id, Reply::Http { status: 200, retry_after: None, body: Some(b"{}") }, now);
    world.settle();
    assert_eq!(world.outcome(tab, inflight), &Ok(Outcome::Response { request: id }));
}

#[test]
fn signed_out_elsewhere_while_waiting_for_the_lock_ends_the_wait_without_a_refresh() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let mut config = World::config(Persistence::Shared);
    config.relogin = false;
    let tab = world.open(config);
    world.lock = Some(usize::MAX); // another tab holds the lock
    let w = world.want_token(tab);
    world.settle();
    world.shared.remove("tokens"); // ... and signs out
    world.lock = None;
    world.grant_lock();
    world.run();
    assert_eq!(world.error_of(tab, w), "login_required");
    assert_eq!(world.server.refresh_posts, 0);
}

#[test]
fn empty_storage_after_a_refused_write_is_not_a_sign_out() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.tabs[tab].refuse_token_writes = true;
    let w = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w), "access-2");
    // Storage lost what it had (the user cleared it, or the quota evicted it): memory still holds the session.
    world.shared.remove("tokens");
    world.now += 3_600_000;
    let w2 = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, w2), "access-3");
}

#[test]
fn two_calls_backing_off_are_each_retried_on_their_own_timer() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.api_script.extend([(503, "{}"), (503, "{}")]);
    let (a, b) = (world.waiter(), world.waiter());
    let now = world.now;
    world.tabs[tab].session.fetch(a, "/api/v2/users/me", now);
    world.tabs[tab].session.fetch(b, "/api/v2/users/me", now);
    world.run_until(now + 30_000);
    assert!(matches!(world.outcome(tab, a), Ok(Outcome::Response { .. })));
    assert!(matches!(world.outcome(tab, b), Ok(Outcome::Response { .. })));
    assert_eq!(world.server.api_calls.len(), 4, "each call once more, no more");
}

#[test]
fn a_memory_session_never_writes_tokens_to_storage_even_when_a_refresh_is_refused() {
    let mut world = World::new();
    let text = world.seed_tokens(30);
    world.shared.clear();
    // A memory session starts empty; it is handed tokens as if another part of the page signed in.
    let mut config = World::config(Persistence::Memory);
    config.relogin = false;
    let tab = world.open(config);
    assert!(!world.tabs[tab].session.is_authenticated());
    world.tabs[tab].session.stored_changed(Some(&text), world.now);
    let adopted = world.tabs[tab].session.is_authenticated();
    // Whether or not the machine adopts tokens it is handed, nothing it does may write them anywhere.
    world.server.live_refresh = None;
    let w = world.waiter();
    let now = world.now;
    world.tabs[tab].session.want_refresh(w, now);
    world.run();
    assert!(world.outcome(tab, w).is_err(), "adopted: {adopted}");
    assert!(!world.tabs[tab].private.contains_key("tokens"), "a memory session stored its tokens");
    assert!(world.shared.is_empty());
}

#[test]
fn an_api_call_that_keeps_failing_is_tried_max_attempts_times_then_fails_with_its_status() {
    for (status, code) in [(503, "server_error"), (429, "rate_limited")] {
        let mut world = World::new();
        world.seed_tokens(3600);
        let tab = world.open(World::config(Persistence::Shared));
        world.server.api_script.extend([(status, "{}"); 10]);
        let w = world.waiter();
        let now = world.now;
        world.tabs[tab].session.fetch(w, "/api/v2/users/me", now);
        world.run_until(now + 120_000);
        assert_eq!(world.error_of(tab, w), code);
        let attempts = genesys_auth::RetryPolicy::default().max_attempts as usize;
        assert_eq!(world.server.api_calls.len(), attempts, "{status}");
    }
}

#[test]
fn after_a_401_other_callers_wait_for_the_new_token_instead_of_getting_the_refused_one() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.api_script.push_back((401, r#"{"code":"authentication.required"}"#));
    let _call = world.fetch(tab);
    world.settle();
    assert!(world.deliver_one(), "the call went out");
    world.settle(); // the 401 started a refresh: it is on the wire, not answered yet
    let b = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, b), "access-2");
    assert_eq!(world.server.refresh_posts, 1);
}

#[test]
fn a_401_for_a_token_another_tab_already_replaced_does_not_end_the_session() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let mut config = World::config(Persistence::Shared);
    config.relogin = false;
    let tab = world.open(config);
    world.server.api_script.extend([(401, "{}"), (401, "{}")]);
    let a = world.fetch(tab);
    // Run until the retry (with the refreshed token) is on the wire.
    loop {
        world.settle();
        if matches!(world.wire.front(), Some((_, Request::Api { token, .. })) if token.secret() == "access-2") {
            break;
        }
        assert!(world.deliver_one(), "the retry never went out");
    }
    // Meanwhile another tab refreshed: this tab hears of access-3 before the retry's answer comes back.
    let text = world.seed_tokens(3600);
    world.tabs[tab].session.stored_changed(Some(&text), world.now);
    world.run();
    assert_eq!(world.error_of(tab, a), "unauthorized");
    assert!(world.tabs[tab].session.is_authenticated(), "the newer token is the session now");
    let b = world.want_token(tab);
    world.run();
    assert_eq!(world.token_of(tab, b), "access-3");
}

#[test]
fn unreadable_storage_under_the_lock_is_reported_and_memory_refreshes() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.lock = Some(usize::MAX); // another tab holds the lock ...
    let w = world.want_token(tab);
    world.settle();
    world.shared.insert("tokens", "v=1&access=%00".into()); // ... and something wrote garbage
    world.lock = None;
    world.grant_lock();
    world.run();
    assert_eq!(world.token_of(tab, w), "access-2");
    let reports: Vec<&str> = world.tabs[tab].reports.iter().map(Error::code).collect();
    assert_eq!(reports, ["corrupt_storage"]);
}

#[test]
fn a_later_considered_timer_that_is_sooner_comes_first() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let mut config = World::config(Persistence::Shared);
    config.framed = true;
    let tab = world.open(config);
    world.server.script.push_back(Scripted::Status(503, None, "busy"));
    let _ = world.want_token(tab);
    world.run();
    let retry = world.tabs[tab].session.poll_timeout().unwrap_or(0);
    assert!(retry >= world.now + 250, "the refresh backs off: {retry}");
    // A popup login with a 100 ms timeout: its deadline is sooner than the refresh's retry.
    let w = world.waiter();
    let now = world.now;
    let options = LoginOptions { timeout_ms: Some(100), ..LoginOptions::default() };
    world.tabs[tab].session.login(w, &options, now);
    world.settle();
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(now + 100));
}

#[test]
fn a_refresh_retry_and_a_code_exchange_retry_each_send_their_own_request() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.script.push_back(Scripted::Status(503, None, "busy"));
    let _ = world.want_token(tab);
    world.run();
    assert_eq!(world.server.refresh_posts, 1);
    let state = start_login(&mut world, tab, None);
    world.server.script.push_back(Scripted::Status(429, Some("1"), "{}"));
    let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.run_until(world.now + 5_000);
    assert!(matches!(world.outcome(tab, w), Ok(Outcome::SignedIn { .. })));
    assert_eq!(world.server.code_posts, 2, "the code once more after the 429, and only then");
    assert!(world.server.refresh_posts >= 2, "the refresh went again on its own timer");
}

// ----- A sign-out sticks: it ends the epoch, and nothing signs in again until the app asks -----

impl World {
    fn logout(&mut self, tab: usize) -> Waiter {
        let w = self.waiter();
        let now = self.now;
        self.tabs[tab].session.logout(w, None, now);
        w
    }

    /// Nothing of the session is left in `tab`: no tokens in memory or in its storage, the sign-out marked.
    fn assert_signed_out(&self, tab: usize) {
        let t = &self.tabs[tab];
        assert!(!t.session.is_authenticated(), "tab {tab} holds tokens");
        assert!(t.session.is_signed_out(), "tab {tab} is not marked signed out");
        assert!(!t.private.contains_key("tokens"), "tab {tab} stored tokens");
        assert_eq!(t.private.get("signed-out").map(String::as_str), Some("1"), "tab {tab}: the mark is stored");
    }
}

#[test]
fn a_refresh_answered_after_a_logout_is_discarded_and_its_tokens_revoked() {
    for persistence in [Persistence::Private, Persistence::Shared] {
        let mut world = World::new();
        let text = world.seed_tokens(-1);
        let private =
            if persistence == Persistence::Private { HashMap::from([("tokens", text)]) } else { HashMap::new() };
        let tab = world.open_with_private(World::config(persistence), private);
        let caller = world.want_token(tab);
        world.settle(); // the refresh is on the wire
        assert_eq!(world.wire.len(), 1, "{persistence:?}");
        let out = world.logout(tab);
        world.run(); // the refresh is answered now, late
        assert_eq!(world.server.refresh_posts, 1);
        assert_eq!(world.error_of(tab, caller), "signed_out", "{persistence:?}");
        assert_eq!(world.outcome(tab, out), &Ok(Outcome::SignedOut));
        world.assert_signed_out(tab);
        if persistence == Persistence::Shared {
            assert!(!world.shares_tokens(), "the late tokens were stored");
        }
        // The access token of the session, and the one that came late.
        assert_eq!(world.server.revoked, ["access-1", "access-2"], "{persistence:?}");
        assert_eq!(world.lock, None, "{persistence:?}: the lock is released");
        // And it stays so: a caller hears why, and no refresh or login starts.
        let later = world.want_token(tab);
        world.run_until(world.now + 600_000);
        assert_eq!(world.error_of(tab, later), "signed_out");
        assert_eq!(world.server.refresh_posts, 1);
        assert!(!world.tabs[tab].session.should_auto_login(world.now));
        assert!(world.tabs[tab].navigations.is_empty(), "a login started");
    }
}

#[test]
fn a_code_exchange_answered_after_a_logout_is_discarded_and_its_tokens_revoked() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Shared));
    let state = start_login(&mut world, tab, None);
    let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.settle(); // the exchange is on the wire
    let out = world.logout(tab);
    world.tabs[tab].navigations.clear();
    world.run();
    assert!(world.tabs[tab].navigations.is_empty(), "a login started");
    assert_eq!(world.server.code_posts, 1);
    assert_eq!(world.error_of(tab, w), "signed_out");
    assert_eq!(world.outcome(tab, out), &Ok(Outcome::SignedOut));
    world.assert_signed_out(tab);
    assert!(!world.shares_tokens());
    assert_eq!(world.server.revoked, ["access-1"]);
}

#[test]
fn two_tabs_one_refreshing_one_waiting_for_the_lock_end_signed_out_when_the_first_signs_out() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    let wa = world.want_token(a);
    world.settle(); // a refreshes under the lock
    let wb = world.want_token(b);
    world.settle(); // b waits for the lock
    assert_eq!((world.lock, world.lock_queue.len()), (Some(a), 1));
    let out = world.logout(a);
    world.run();
    assert_eq!(world.outcome(a, out), &Ok(Outcome::SignedOut));
    assert_eq!(world.error_of(a, wa), "signed_out");
    assert_eq!(world.error_of(b, wb), "signed_out", "b's caller hears of the sign-out, not of a login");
    for tab in [a, b] {
        world.assert_signed_out(tab);
        assert!(world.tabs[tab].navigations.is_empty(), "tab {tab} started a login");
    }
    assert_eq!(world.shared.get("tokens").map(String::as_str), Some(SIGNED_OUT_MARK), "no tokens: the mark");
    assert_eq!(world.server.refresh_posts, 1, "b did not refresh the old session");
    assert_eq!(world.server.revoked, ["access-1", "access-2"]);
    assert_eq!(world.lock, None);
}

#[test]
fn a_logout_while_waiting_for_announced_tokens_ends_the_wait() {
    let (mut world, a, b) = two_shared_tabs_on_expired_tokens();
    world.lag(b);
    let _ = world.want_token(a);
    world.run(); // a refreshed and announced; b's storage does not show it
    let wb = world.want_token(b);
    world.run(); // b awaits the announced tokens
    assert!(world.tabs[b].session.poll_timeout().is_some());
    let out = world.logout(b);
    world.run_until(world.now + 10_000);
    assert_eq!(world.outcome(b, out), &Ok(Outcome::SignedOut));
    assert_eq!(world.error_of(b, wb), "signed_out");
    assert_eq!(world.server.refresh_posts, 1, "no refresh after the wait");
    assert!(!world.tabs[b].session.is_authenticated());
}

#[test]
fn an_announced_logout_fails_the_other_tabs_callers_without_a_login_and_login_works_again() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let a = world.open(World::config(Persistence::Shared));
    let b = world.open(World::config(Persistence::Shared));
    let wb = world.fetch(b);
    world.settle(); // b's API call is on the wire
    let _ = world.logout(a);
    world.settle();
    world.run(); // b's call is answered now, late
    assert_eq!(world.error_of(b, wb), "signed_out");
    world.assert_signed_out(b);
    assert!(world.tabs[b].navigations.is_empty(), "b started a login");
    assert_eq!(world.tabs[b].heard, [Announcement::Logout]);
    let w = world.want_token(b);
    world.run();
    assert_eq!(world.error_of(b, w), "signed_out");
    // The person asks to sign in again: that works, and ends the signed-out state.
    let state = start_login(&mut world, b, None);
    assert!(!world.tabs[b].session.is_signed_out());
    assert!(!world.tabs[b].private.contains_key("signed-out"));
    let w = callback(&mut world, b, &format!("http://localhost:3000/?code=c2&state={state}"));
    world.run();
    assert_eq!(world.outcome(b, w), &Ok(Outcome::SignedIn { return_to: None }));
    assert!(world.shares_tokens());
    // The other tab takes the new session from storage.
    assert!(world.tabs[a].session.is_authenticated() && !world.tabs[a].session.is_signed_out());
}

#[test]
fn a_logout_message_with_tokens_still_in_storage_changes_nothing_until_storage_does() {
    let mut world = World::new();
    world.seed_tokens(3600);
    let b = world.open(World::config(Persistence::Shared));
    let stored = world.shared.get("tokens").cloned();
    let now = world.now;
    let event = Event::Announced { announcement: Announcement::Logout, stored: stored.as_deref() };
    world.tabs[b].session.handle(event, now);
    world.settle();
    assert!(world.tabs[b].session.is_authenticated(), "a message alone signs nobody out");
    let w = world.want_token(b);
    world.run();
    assert_eq!(world.token_of(b, w), "access-1");
    // The removal comes through storage shortly after (a lagging view): then it is the announced sign-out.
    world.now += 200;
    world.shared.remove("tokens");
    world.catch_up(b, true);
    world.settle();
    assert!(world.tabs[b].session.is_signed_out());
    // Much later, a removal is only the end of a session, not a sign-out by the user.
    let mut world = World::new();
    world.seed_tokens(3600);
    let c = world.open(World::config(Persistence::Shared));
    world.tabs[c]
        .session
        .handle(Event::Announced { announcement: Announcement::Logout, stored: stored.as_deref() }, T0);
    world.now += ANNOUNCED_WAIT_MS + 1;
    world.shared.remove("tokens");
    world.catch_up(c, true);
    world.settle();
    assert!(!world.tabs[c].session.is_authenticated() && !world.tabs[c].session.is_signed_out());
}

#[test]
fn the_sign_out_survives_a_reload_and_stops_automatic_sign_in() {
    let mut world = World::new();
    let text = world.seed_tokens(3600);
    let tab = world.open_with_private(World::config(Persistence::Private), HashMap::from([("tokens", text)]));
    assert!(!world.tabs[tab].session.should_auto_login(world.now), "signed in: nothing to start");
    let _ = world.logout(tab);
    world.run();
    // The reload: a new machine from this tab's storage.
    let private = world.tabs[tab].private.clone();
    let reloaded = world.open_with_private(World::config(Persistence::Private), private);
    let session = &world.tabs[reloaded].session;
    assert!(session.is_signed_out() && !session.should_auto_login(world.now));
    // A session that merely ended (an expired token, a refused refresh) is signed in again automatically.
    let fresh = world.open(World::config(Persistence::Private));
    assert!(world.tabs[fresh].session.should_auto_login(world.now));
    let w = world.fetch(reloaded);
    world.run();
    assert_eq!(world.error_of(reloaded, w), "signed_out");
    assert!(world.tabs[reloaded].navigations.is_empty());
}

#[test]
fn a_redirecting_token_or_api_endpoint_is_not_followed_nor_retried() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.script.push_back(Scripted::Status(302, None, ""));
    let w = world.want_token(tab);
    world.run_until(world.now + 120_000);
    assert_eq!(world.error_of(tab, w), "redirected");
    assert_eq!(world.server.refresh_posts, 1, "not retried");
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    world.server.api_script.push_back((307, ""));
    let w = world.fetch(tab);
    world.run_until(world.now + 120_000);
    assert_eq!(world.error_of(tab, w), "redirected");
    assert_eq!(world.server.api_calls.len(), 1, "the Bearer went out once");
}

#[test]
fn a_sign_in_resolves_only_once_its_tokens_are_written_under_the_lock() {
    let mut world = World::new();
    let tab = world.open(World::config(Persistence::Shared));
    let state = start_login(&mut world, tab, None);
    world.lock = Some(usize::MAX); // another tab refreshes
    let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.run();
    assert!(world.tabs[tab].resolved.iter().all(|(x, _)| *x != w), "resolved before the write");
    assert!(!world.shares_tokens());
    world.lock = None;
    world.grant_lock();
    world.run();
    assert_eq!(world.outcome(tab, w), &Ok(Outcome::SignedIn { return_to: None }));
    assert!(world.shared.contains_key("tokens"));
    assert_eq!(world.lock, None);
}

#[test]
fn a_sign_in_that_cannot_be_stored_fails_where_memory_ends_with_the_command() {
    for (ends, expect) in [(true, Err("storage_unavailable")), (false, Ok(()))] {
        let mut world = World::new();
        let mut config = World::config(Persistence::Shared);
        config.memory_ends_with_call = ends;
        let tab = world.open(config);
        world.tabs[tab].refuse_token_writes = true;
        let state = start_login(&mut world, tab, None);
        let w = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
        world.run();
        let got = world.outcome(tab, w).as_ref().map(drop).map_err(Error::code);
        assert_eq!(got, expect);
        assert_eq!(world.tabs[tab].reports.iter().map(Error::code).collect::<Vec<_>>(), ["storage_unavailable"]);
    }
}

#[test]
fn a_sign_out_seen_in_storage_before_its_message_is_still_a_sign_out_and_new_tabs_start_signed_out() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let a = world.open(World::config(Persistence::Shared));
    let b = world.open(World::config(Persistence::Shared));
    world.lock = Some(usize::MAX); // a third tab holds the lock: b's caller waits for it
    let wb = world.want_token(b);
    world.settle();
    // a signs out; b hears of it only through storage (its channel message is late, or lost).
    let now = world.now;
    world.lock = None;
    world.lock_queue.retain(|t| *t != b);
    let w = world.waiter();
    world.tabs[a].session.logout(w, None, now);
    while let Some(action) = world.tabs[a].session.poll_action() {
        match action {
            Action::Announce(_) => {} // not delivered
            other => world.execute(a, other),
        }
    }
    assert_eq!(world.shared.get("tokens").map(String::as_str), Some(SIGNED_OUT_MARK));
    world.lock_queue.push_back(b);
    world.grant_lock(); // b reads the mark under the lock
    world.run();
    assert_eq!(world.error_of(b, wb), "signed_out");
    assert!(world.tabs[b].session.is_signed_out() && world.tabs[b].navigations.is_empty(), "b started a login");
    // A tab opened afterwards starts signed out: no automatic sign-in there either.
    let c = world.open(World::config(Persistence::Shared));
    assert!(world.tabs[c].session.is_signed_out() && !world.tabs[c].session.should_auto_login(world.now));
    let wc = world.want_token(c);
    world.run();
    assert_eq!(world.error_of(c, wc), "signed_out");
    assert!(
        world.tabs[c].reports.is_empty() && world.tabs[c].session.discarded().is_none(),
        "the mark is no corrupt storage"
    );
}

#[test]
fn a_stream_of_announcements_keeps_no_caller_waiting_past_its_bound() {
    let (mut world, _, _, b, wb) = a_refresh_that_a_lagging_tab_does_not_see();
    let start = world.now;
    // Same-origin messages every 100 ms claim new tokens that b's storage never shows; each arrives while b waits for
    // the lock (another tab holds it), just before b gets it.
    let ended = |w: &World| !w.tabs[b].resolved.is_empty() || !w.tabs[b].navigations.is_empty();
    for _ in 0..40 {
        world.now += 100;
        world.lock = Some(usize::MAX);
        let now = world.now;
        if world.tabs[b].session.poll_timeout().is_some_and(|t| t <= now) {
            world.tabs[b].session.handle(Event::Timeout, now);
        }
        world.settle();
        let stored = world.view(b);
        world.tabs[b].session.tokens_announced(stored.as_deref(), now);
        world.lock = None;
        world.grant_lock();
        world.run();
        if ended(&world) {
            break;
        }
    }
    assert!(ended(&world), "b's caller still waits after {} ms", world.now - start);
    assert!(world.now - start <= 2 * ANNOUNCED_WAIT_MS, "waited {} ms", world.now - start);
    // b refreshed by itself after one bounded wait (with its lagging view: the server's reuse detection answers).
    assert_eq!(world.server.refresh_posts, 2);
    let _ = wb;
}

#[test]
fn a_request_without_an_answer_is_given_up_after_the_timeout_and_handled_as_a_network_failure() {
    use genesys_auth::session::REQUEST_TIMEOUT_MS;
    let mut world = World::new();
    world.seed_tokens(-1);
    let mut config = World::config(Persistence::Shared);
    config.retry.max_attempts = 1;
    let tab = world.open(config);
    let w = world.want_token(tab);
    world.settle(); // the refresh is on the wire, and its answer never comes
    let sent = world.wire.len();
    assert_eq!(sent, 1);
    assert_eq!(world.tabs[tab].session.poll_timeout(), Some(T0 + REQUEST_TIMEOUT_MS));
    let now = T0 + REQUEST_TIMEOUT_MS - 1;
    world.tabs[tab].session.handle(Event::Timeout, now);
    world.settle();
    assert!(world.tabs[tab].resolved.is_empty(), "not before the timeout");
    world.now = T0 + REQUEST_TIMEOUT_MS;
    world.tabs[tab].session.handle(Event::Timeout, world.now);
    world.settle();
    assert_eq!(world.tabs[tab].aborted.len(), 1, "the request is dropped");
    assert!(world.wire.is_empty());
    assert_eq!(world.error_of(tab, w), "network_error");
    assert_eq!(world.lock, None, "the lock is released");
    // A logout whose revocation gets no answer still ends, at the timeout.
    let mut world = World::new();
    world.seed_tokens(3600);
    let tab = world.open(World::config(Persistence::Shared));
    let out = world.logout(tab);
    world.settle();
    assert_eq!(world.wire.len(), 1, "the revocation is on the wire");
    world.now += REQUEST_TIMEOUT_MS;
    world.tabs[tab].session.handle(Event::Timeout, world.now);
    world.settle();
    assert_eq!(world.outcome(tab, out), &Ok(Outcome::SignedOut));
}

#[test]
fn an_explicit_refresh_that_is_refused_says_sign_in_while_calls_keep_the_valid_token() {
    let mut world = World::new();
    world.seed_tokens(3600);
    world.server.live_refresh = None; // the server refuses the refresh token (invalid_grant)
    let tab = world.open(World::config(Persistence::Shared));
    let r = world.waiter();
    let now = world.now;
    world.tabs[tab].session.want_refresh(r, now);
    let w = world.want_token(tab); // joins the refresh in flight
    world.run();
    assert_eq!(world.error_of(tab, r), "login_required", "not the raw oauth_error");
    assert_eq!(world.token_of(tab, w), "access-1");
    assert!(world.tabs[tab].session.is_authenticated());
}

#[test]
fn a_removal_exactly_when_the_announced_logout_is_a_bound_old_is_no_sign_out() {
    for (after, signed_out) in [(ANNOUNCED_WAIT_MS - 1, true), (ANNOUNCED_WAIT_MS, false)] {
        let mut world = World::new();
        world.seed_tokens(3600);
        let b = world.open(World::config(Persistence::Shared));
        let stored = world.shared.get("tokens").cloned();
        world.tabs[b]
            .session
            .handle(Event::Announced { announcement: Announcement::Logout, stored: stored.as_deref() }, T0);
        world.now = T0 + after;
        world.shared.remove("tokens");
        world.catch_up(b, true);
        world.settle();
        assert_eq!(world.tabs[b].session.is_signed_out(), signed_out, "removal {after} ms after the message");
    }
}

#[test]
fn a_tab_without_a_session_that_hears_a_logout_is_signed_out_too() {
    for stored in [None, Some(SIGNED_OUT_MARK)] {
        let mut world = World::new();
        let b = world.open(World::config(Persistence::Shared)); // its session ended earlier: no tokens, no mark
        assert!(!world.tabs[b].session.is_signed_out() && world.tabs[b].session.should_auto_login(world.now));
        let now = world.now;
        world.tabs[b].session.handle(Event::Announced { announcement: Announcement::Logout, stored }, now);
        world.settle();
        assert!(world.tabs[b].session.is_signed_out(), "{stored:?}");
        assert!(!world.tabs[b].session.should_auto_login(world.now), "{stored:?}");
        assert_eq!(world.tabs[b].private.get("signed-out").map(String::as_str), Some("1"));
    }
    // A logout message while storage still holds tokens signs nobody out by itself.
    let mut world = World::new();
    world.seed_tokens(3600);
    let b = world.open(World::config(Persistence::Shared));
    let stored = world.shared.get("tokens").cloned();
    world.tabs[b]
        .session
        .handle(Event::Announced { announcement: Announcement::Logout, stored: stored.as_deref() }, T0);
    world.settle();
    assert!(world.tabs[b].session.is_authenticated() && !world.tabs[b].session.is_signed_out());
}

#[test]
fn a_sign_out_mark_that_storage_shows_signs_out_a_tab_without_a_session_too() {
    let mut world = World::new();
    let b = world.open(World::config(Persistence::Shared));
    world.shared.insert("tokens", SIGNED_OUT_MARK.to_string());
    world.catch_up(b, true); // the storage event of another tab's sign-out
    world.settle();
    assert!(world.tabs[b].session.is_signed_out() && !world.tabs[b].session.should_auto_login(world.now));
}

#[test]
fn every_token_request_in_flight_at_a_logout_has_its_late_tokens_revoked() {
    let mut world = World::new();
    let text = world.seed_tokens(-1);
    let tab = world.open_with_private(World::config(Persistence::Private), HashMap::from([("tokens", text)]));
    let _ = world.want_token(tab);
    world.settle(); // a refresh on the wire
    let (_, state) = begin_login(&mut world, tab, None);
    let _ = callback(&mut world, tab, &format!("http://localhost:3000/?code=c1&state={state}"));
    world.settle(); // and a code exchange on the wire
    assert_eq!(world.wire.len(), 2);
    let _ = world.logout(tab);
    world.run();
    let mut revoked = world.server.revoked.clone();
    revoked.sort();
    assert_eq!(revoked, ["access-1", "access-2", "access-3"], "the session's token and both late ones");
    assert!(!world.tabs[tab].session.is_authenticated());
}

#[test]
fn a_lock_that_cannot_be_taken_is_gone_without_and_reported_once() {
    let mut world = World::new();
    world.seed_tokens(-1);
    let tab = world.open(World::config(Persistence::Shared));
    for round in 0..2 {
        let w = world.want_token(tab);
        // The platform refuses the lock (no Web Locks API): the driver says so instead of granting it.
        let mut asked = false;
        while let Some(action) = world.tabs[tab].session.poll_action() {
            match action {
                Action::Lock { .. } => asked = true,
                other => world.execute(tab, other),
            }
        }
        assert!(asked, "round {round}: the machine asked for the lock");
        let (stored, now) = (world.view(tab), world.now);
        world.tabs[tab]
            .session
            .handle(Event::LockUnavailable { stored: stored.as_deref(), detail: "no Web Locks" }, now);
        // What it then writes it writes without the lock: the harness lends it for that.
        world.lock = Some(tab);
        world.run();
        world.lock = None;
        assert_eq!(world.token_of(tab, w), format!("access-{}", round + 2), "round {round}: refreshed all the same");
        world.now += 3_600_000;
    }
    let reports: Vec<&str> = world.tabs[tab].reports.iter().map(Error::code).collect();
    assert_eq!(reports, ["storage_unavailable"], "reported once");
}
