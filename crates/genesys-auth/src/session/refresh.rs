//! The refresh: ahead of expiry or when asked, one at a time however many callers wait, under the lock shared with
//! other tabs or processes (the stored tokens read again under it), with its retries; and the lock itself, under
//! which every write of the shared tokens happens.

use super::{
    Action, Announcement, Attempt, Outcome, Persistence, RefreshState, Reply, RequestId, RetryNotice, Session,
    SharedWrite, Slot, Then, Waiter, Want,
};
use crate::{AccessToken, Error, Failure, StoredText, TokenRequest, TokenSet, parse_token_response};

impl Session {
    /// Give `want` a token now, or join (and start) the refresh.
    pub(super) fn want(&mut self, want: Want, now_ms: u64) {
        let Some(tokens) = &self.tokens else {
            let error = self.no_session();
            return self.fail_wants(vec![want], error);
        };
        if !tokens.needs_refresh(now_ms, self.config.refresh_skew_ms) {
            let token = tokens.access.clone();
            return self.give(want, token);
        }
        self.refresh_waiters.push(want);
        self.start_refresh(now_ms);
    }

    /// A caller wants a refresh now (joins one in flight).
    pub(super) fn want_refresh(&mut self, waiter: Waiter, now_ms: u64) {
        if self.tokens.is_none() {
            let error = self.no_session();
            return self.resolve_one(waiter, Err(error));
        }
        self.refresh_waiters.push(Want::Refresh(waiter));
        self.start_refresh(now_ms);
    }

    pub(super) fn give(&mut self, want: Want, token: AccessToken) {
        match want {
            Want::Token(w) => self.resolve_one(w, Ok(Outcome::Token(token))),
            Want::Refresh(w) => self.resolve_one(w, Ok(Outcome::Refreshed)),
            Want::Call(w) => self.send_call(w, token),
        }
    }

    pub(super) fn fail_wants(&mut self, wants: Vec<Want>, error: Error) {
        let waiters = self.take_waiters(wants);
        self.resolve(waiters, Err(error));
    }

    /// The callers behind `wants`, their API calls (if any) given up.
    pub(super) fn take_waiters(&mut self, wants: Vec<Want>) -> Vec<Waiter> {
        let waiters: Vec<Waiter> =
            wants.into_iter().map(|(Want::Token(w) | Want::Refresh(w) | Want::Call(w))| w).collect();
        self.calls.retain(|c| !waiters.contains(&c.waiter));
        waiters
    }

    pub(super) fn start_refresh(&mut self, now_ms: u64) {
        if !matches!(self.refresh, RefreshState::Idle) {
            return; // one refresh in flight, however many wait
        }
        if self.config.persistence == Persistence::Shared {
            // The token this refresh replaces, taken now: another tab's new token must not be refreshed again.
            let seen = self.tokens.as_ref().map(|t| t.access.clone());
            self.refresh = RefreshState::Locking { seen };
            self.ask_lock();
        } else {
            self.send_refresh(false, now_ms);
        }
    }

    /// Asks for the shared lock, unless it is asked for already.
    pub(super) fn ask_lock(&mut self) {
        if !self.lock_asked {
            self.lock_asked = true;
            let name = self.shared_name();
            self.push(Action::Lock { name });
        }
    }

    /// True while this machine holds the shared lock.
    pub(super) fn holds_lock(&self) -> bool {
        matches!(self.refresh, RefreshState::Running { locked: true, .. })
    }

    /// Writes the shared tokens (or removes them: `text` is `None`) under the lock: at once when it is held (or
    /// nothing is shared), else once it is granted. `then` resolves after the write.
    pub(super) fn write_tokens(&mut self, text: Option<String>, announce: Option<Announcement>, then: Option<Then>) {
        let write = SharedWrite { text, announce, then };
        if self.config.persistence != Persistence::Shared || self.holds_lock() {
            return self.apply_write(write);
        }
        // A later write supersedes one still waiting; what was to follow it follows now (a sign-in's tokens are in
        // memory, a sign-out's token is revoked).
        if let Some(SharedWrite { then: Some(then), .. }) = self.write.take() {
            self.follow(then);
        }
        self.write = Some(write);
        self.ask_lock();
    }

    fn follow(&mut self, then: Then) {
        match then {
            Then::Resolve(waiter, outcome) => self.resolve_one(waiter, Ok(outcome)),
            Then::SignOut { token, waiter, sso } => self.revoke_then_sign_out(token, waiter, sso),
        }
    }

    fn apply_write(&mut self, write: SharedWrite) {
        match write.text {
            Some(text) => self.store(Slot::Tokens, text),
            None => self.remove(Slot::Tokens),
        }
        if let Some(a) = write.announce.filter(|_| self.config.persistence == Persistence::Shared) {
            self.push(Action::Announce(a));
        }
        if let Some(then) = write.then {
            self.follow(then);
        }
    }

    fn send_refresh(&mut self, locked: bool, now_ms: u64) {
        if !self.has_refresh_token() {
            // A refresh that cannot be sent fails as one that was refused, holding the lock (if taken) until it
            // has written what it must; id 0 is never a request's.
            self.refresh = RefreshState::Running {
                attempt: Attempt { id: 0, attempts: 0, started_ms: now_ms, retry_at: None },
                locked,
            };
            return self.refresh_failed(Error::NoRefreshToken, now_ms);
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
        self.push(Action::Send(super::Request::Token { id, request }));
    }

    pub(super) fn retry_delay(
        &mut self,
        reply: &Reply<'_>,
        spends_code: bool,
        attempt: &Attempt,
        now_ms: u64,
    ) -> Option<u64> {
        let failure = match reply {
            Reply::Http { status, retry_after, .. } => Failure::Status { status: *status, retry_after: *retry_after },
            Reply::Redirected { .. } => return None, // never retried: the answer would be the same redirect
            Reply::Network { .. } => Failure::Network,
        };
        let random = self.random();
        let elapsed = now_ms.saturating_sub(attempt.started_ms);
        self.config.retry.decide(failure, spends_code, attempt.attempts, elapsed, random, now_ms)
    }

    /// Parses a token endpoint answer; `None` when the body must be read first.
    pub(super) fn token_result(
        &mut self,
        id: RequestId,
        reply: &Reply<'_>,
        now_ms: u64,
    ) -> Option<Result<TokenSet, Error>> {
        match *reply {
            Reply::Network { detail } => Some(Err(Error::Network { detail: crate::error::clean(detail, 200) })),
            Reply::Redirected { status } => Some(Err(Error::Redirected { status })),
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
    pub(super) fn token_attempt(&mut self, spends_code: bool) -> Option<&mut Attempt> {
        match (spends_code, &mut self.refresh, &mut self.login) {
            (false, RefreshState::Running { attempt, .. }, _) => Some(attempt),
            (true, _, Some(super::Login::Exchange { attempt, .. })) => Some(attempt),
            _ => None,
        }
    }

    /// Schedules the retry of the token request in progress if the policy allows one.
    pub(super) fn schedule_retry(&mut self, reply: &Reply<'_>, spends_code: bool, url: String, now_ms: u64) -> bool {
        let Some(attempt) = self.token_attempt(spends_code).map(|a| *a) else { return false };
        let Some(delay_ms) = self.retry_delay(reply, spends_code, &attempt, now_ms) else { return false };
        if let Some(a) = self.token_attempt(spends_code) {
            a.retry_at = Some(now_ms.saturating_add(delay_ms));
        }
        let status = super::status_of(reply);
        self.push(Action::Retrying(RetryNotice { url, attempt: attempt.attempts, status, delay_ms }));
        true
    }

    /// A token request whose pause is over goes again, under a new id.
    pub(super) fn retry_token_requests(&mut self, now_ms: u64) {
        let due = |at: Option<u64>| at.is_some_and(|t| t <= now_ms);
        for spends_code in [false, true] {
            if !self.token_attempt(spends_code).is_some_and(|a| due(a.retry_at)) {
                continue;
            }
            let id = self.id();
            if let Some(a) = self.token_attempt(spends_code) {
                (a.retry_at, a.attempts, a.id) = (None, a.attempts + 1, id);
            }
            match &self.login {
                Some(super::Login::Exchange { request, .. }) if spends_code => {
                    let request = request.again();
                    self.push(Action::Send(super::Request::Token { id, request }));
                }
                _ => self.send_refresh_request(id),
            }
        }
    }

    pub(super) fn refresh_answer(&mut self, reply: Reply<'_>, now_ms: u64) {
        let RefreshState::Running { attempt, locked } = &self.refresh else { return };
        let (id, locked) = (attempt.id, *locked);
        let Some(result) = self.token_result(id, &reply, now_ms) else { return };
        match result {
            Ok(tokens) => {
                self.set_tokens(tokens, None);
                if locked {
                    self.push(Action::Unlock);
                }
                self.refresh_done();
            }
            Err(e) => {
                if !self.schedule_retry(&reply, false, self.config.client.token_url(), now_ms) {
                    self.refresh_failed(e, now_ms);
                }
            }
        }
    }

    /// The refresh succeeded (here or in another tab): every waiter gets the new token.
    pub(super) fn refresh_done(&mut self) {
        self.refresh = RefreshState::Idle;
        self.waited = false;
        let Some(token) = self.tokens.as_ref().map(|t| t.access.clone()) else { return };
        for want in core::mem::take(&mut self.refresh_waiters) {
            self.give(want, token.clone());
        }
    }

    /// The refresh in progress failed for good; what it wrote to shared storage is written before the lock goes.
    fn refresh_failed(&mut self, error: Error, now_ms: u64) {
        let locked = self.holds_lock();
        let waiters = core::mem::take(&mut self.refresh_waiters);
        let refused = error.refresh_refused() || error == Error::NoRefreshToken;
        if refused && let Some(t) = &mut self.tokens {
            // A refused refresh token is never sent again, here or (through storage) in another tab.
            if t.refresh.take().is_some() {
                let text = t.to_storage_for(&self.config.client);
                self.store(Slot::Tokens, text);
            }
        }
        // What an explicit refresh hears while the token is still valid: why there is no new one.
        let error = match error {
            Error::NoRefreshToken => Error::NoRefreshToken,
            _ if refused => Error::LoginRequired,
            other => other,
        };
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
            self.clear_tokens(None);
            self.fail_or_relogin(waiters, Error::LoginRequired, now_ms);
        } else {
            // A transient failure: the session stays; the callers hear why.
            self.fail_wants(waiters, error);
        }
        if matches!(self.refresh, RefreshState::Running { .. }) {
            self.refresh = RefreshState::Idle;
        }
        self.waited = false;
        if locked {
            self.push(Action::Unlock);
        }
    }

    /// The lock asked for with [`Action::Lock`] is held; `stored` is the token text read under it.
    pub(super) fn lock_granted(&mut self, stored: Option<&str>, now_ms: u64) {
        self.lock_asked = false;
        // A write waiting for the lock goes first; what it wrote is what the storage holds now.
        let written = self.write.take().map(|w| {
            let text = w.text.clone();
            self.apply_write(w);
            text
        });
        let stored = match &written {
            Some(text) => text.as_deref(),
            None => stored,
        };
        let RefreshState::Locking { seen } = core::mem::replace(&mut self.refresh, RefreshState::Idle) else {
            self.push(Action::Unlock);
            return;
        };
        if stored == Some(super::SIGNED_OUT_MARK) {
            // The user signed out in another tab while this one waited.
            self.push(Action::Unlock);
            return self.removed_elsewhere(true, now_ms);
        }
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
            Some(Ok(_)) if !self.waited && self.wait_ends().is_some_and(|end| now_ms < end) => {
                // Another tab announced new tokens, but this tab's view of the shared storage does not show them
                // yet (a browser's other processes may see a write late): they are awaited, not refreshed again.
                self.push(Action::Unlock);
                self.refresh = RefreshState::Awaiting;
                return;
            }
            None if !self.unsaved => {
                // Signed out elsewhere while this one waited: the epoch is over.
                self.push(Action::Unlock);
                return self.removed_elsewhere(false, now_ms);
            }
            Some(Err(e)) => {
                self.push(Action::Report(e));
            }
            _ => {}
        }
        self.send_refresh(true, now_ms);
    }

    /// When a wait for the tokens another tab announced would end ([`super::ANNOUNCED_WAIT_MS`] after the
    /// announcement).
    pub(super) fn wait_ends(&self) -> Option<u64> {
        self.announced_ms.map(|at| at.saturating_add(super::ANNOUNCED_WAIT_MS))
    }

    /// When the wait for announced tokens ([`RefreshState::Awaiting`]) ends.
    pub(super) fn awaited_until(&self) -> Option<u64> {
        let awaiting = matches!(self.refresh, RefreshState::Awaiting);
        awaiting.then(|| self.wait_ends().unwrap_or(0))
    }

    /// The announced tokens did not come as awaited (they never showed, or came expired): the refresh goes on
    /// here, under the lock again.
    pub(super) fn refresh_after_wait(&mut self, now_ms: u64) {
        self.refresh = RefreshState::Idle;
        self.announced_ms = None;
        self.waited = true;
        self.start_refresh(now_ms);
    }

    /// When the background refresh is due: the refresh skew before expiry, not sooner than
    /// [`super::KEEP_FRESH_RETRY_MS`] after the last one; never without a refresh token (a session that cannot be
    /// refreshed is not signed in again behind the user's back), nor while a refresh runs.
    pub(super) fn background_due(&self) -> Option<u64> {
        if !self.config.keep_fresh || !matches!(self.refresh, RefreshState::Idle) || !self.has_refresh_token() {
            return None;
        }
        let ahead = self.tokens.as_ref()?.expires_at_ms.saturating_sub(self.config.refresh_skew_ms);
        Some(self.background_ms.map_or(ahead, |last| ahead.max(last.saturating_add(super::KEEP_FRESH_RETRY_MS))))
    }

    /// Writes `text` to `slot`, where [`Session::place`] keeps it (nowhere for unstored tokens).
    pub(super) fn store(&mut self, slot: Slot, text: String) {
        if let Some(place) = self.place(slot) {
            self.push(Action::Store { slot, place, text: StoredText::new(text) });
        }
    }

    /// Removes `slot` from where [`Session::place`] keeps it.
    pub(super) fn remove(&mut self, slot: Slot) {
        if let Some(place) = self.place(slot) {
            self.push(Action::Remove { slot, place });
        }
    }
}
