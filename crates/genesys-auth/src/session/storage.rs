//! The tokens kept (memory, storage, other tabs told), read back (at start, from other tabs and processes), and
//! given up: the sign-out, which ends the session's epoch wherever it happened — work in flight is dropped, its late
//! tokens revoked, and nothing signs in again until the app asks.

use super::{
    ANNOUNCED_WAIT_MS, Action, Announcement, Login, Outcome, Persistence, RefreshState, Reply, RequestId, Restored,
    Session, Slot, Then, Waiter,
};
use crate::{AccessToken, Error, TokenSet, parse_token_response};

impl Session {
    /// What storage held at start.
    pub(super) fn restored(&mut self, restored: Restored<'_>, now_ms: u64) {
        self.relogin_at_ms = restored.relogin_at.and_then(crate::parse_decimal);
        self.signed_out = restored.signed_out.is_some();
        let Some(text) = restored.tokens else { return };
        if text == super::SIGNED_OUT_MARK {
            // Signed out in another tab: so is this one, until the app asks to sign in.
            return self.mark_signed_out();
        }
        match TokenSet::from_storage_for(text, &self.config.client) {
            Ok(t) if t.remaining_ms(now_ms) > 0 || t.refresh.is_some() => {
                // Someone signed in since the sign-out (another tab): the session is theirs.
                self.tokens = Some(t);
                self.end_signed_out();
            }
            Ok(_) => self.write_tokens(None, None, None),
            Err(e) => {
                self.write_tokens(None, None, None);
                self.discarded = Some(e);
            }
        }
    }

    /// Keeps `tokens`: memory, storage when configured (under the lock when shared), other tabs told; `then`
    /// resolves once they are written.
    pub(super) fn set_tokens(&mut self, tokens: TokenSet, then: Option<(Waiter, Outcome)>) {
        let text = (self.config.persistence != Persistence::Memory).then(|| tokens.to_storage_for(&self.config.client));
        self.unsaved = false;
        self.tokens = Some(tokens);
        self.write_tokens(text, Some(Announcement::Tokens), then.map(|(w, o)| Then::Resolve(w, o)));
        self.push(Action::Changed);
    }

    /// Forgets the tokens in memory and storage; `announce` tells the other tabs why.
    pub(super) fn clear_tokens(&mut self, announce: Option<Announcement>) {
        let had = self.tokens.take().is_some();
        self.unsaved = false;
        self.write_tokens(None, announce, None);
        if had {
            self.push(Action::Changed);
        }
    }

    /// The signed-out state ends: the app asked to sign in, or someone did.
    pub(super) fn end_signed_out(&mut self) {
        if core::mem::take(&mut self.signed_out) {
            self.remove(Slot::SignedOut);
        }
    }

    fn mark_signed_out(&mut self) {
        if !self.signed_out {
            self.signed_out = true;
            self.store(Slot::SignedOut, "1".into());
        }
    }

    /// The session's epoch is over: every answer to work started before now is discarded (token requests on the
    /// wire are remembered so that their tokens are revoked), and every caller waiting for that work hears `error`
    /// ([`Error::SignedOut`] after a sign-out) — or, for a session that merely ended, is signed in again when that
    /// is allowed.
    fn end_epoch(&mut self, now_ms: u64) {
        match core::mem::replace(&mut self.refresh, RefreshState::Idle) {
            RefreshState::Running { attempt, locked } => {
                self.abandoned.push(attempt.id);
                if locked {
                    self.push(Action::Unlock);
                }
            }
            // A lock still to come is released when it is granted.
            RefreshState::Idle | RefreshState::Locking { .. } | RefreshState::Awaiting => {}
        }
        (self.announced_ms, self.waited) = (None, false);
        let mut wants = core::mem::take(&mut self.refresh_waiters);
        // Calls on the wire or pausing before a retry.
        for c in &self.calls {
            wants.push(super::Want::Call(c.waiter));
        }
        match self.login.take() {
            Some(Login::Exchange { waiter, attempt, .. }) => {
                self.abandoned.push(attempt.id);
                wants.push(super::Want::Token(waiter));
            }
            Some(Login::Popup { waiter, .. }) => {
                self.push(Action::ClosePopup);
                wants.push(super::Want::Token(waiter));
            }
            None => {}
        }
        self.fail_or_relogin(wants, Error::LoginRequired, now_ms);
    }

    /// The stored tokens were removed by another tab or process: the epoch is over here too; a sign-out when the
    /// storage says so (`by_user`: the sign-out mark) or a logout was announced moments ago.
    pub(super) fn removed_elsewhere(&mut self, by_user: bool, now_ms: u64) {
        let announced = self.logout_announced_ms.take().is_some_and(|at| now_ms < at.saturating_add(ANNOUNCED_WAIT_MS));
        if by_user || announced {
            self.mark_signed_out();
        }
        if self.tokens.take().is_some() {
            self.push(Action::Changed);
        }
        self.unsaved = false;
        self.end_epoch(now_ms);
    }

    /// Another tab announced new tokens or a logout. The announcement is a hint, not a fact: the machine decides
    /// from what `stored` holds.
    pub(super) fn announced(&mut self, announcement: Announcement, stored: Option<&str>, now_ms: u64) {
        if self.write.is_some() {
            return; // this machine's own write is on its way under the lock: it is the newer news
        }
        match announcement {
            Announcement::Logout if stored.is_none() || stored == Some(super::SIGNED_OUT_MARK) => {
                self.logout_announced_ms = Some(now_ms);
                if self.tokens.is_some() || !self.signed_out {
                    self.removed_elsewhere(true, now_ms);
                }
            }
            Announcement::Logout => {
                // Storage still shows tokens: this tab's view may lag the logout (its removal comes as
                // StoredChanged), or the message is not true.
                self.logout_announced_ms = Some(now_ms);
                self.take_stored(stored, now_ms);
            }
            Announcement::Tokens => {
                // A further announcement while the tokens are awaited does not prolong the wait.
                let awaiting = matches!(self.refresh, RefreshState::Awaiting);
                if !self.take_stored(stored, now_ms) && self.tokens.is_some() && !awaiting {
                    self.announced_ms = Some(now_ms);
                }
            }
        }
    }

    /// Another tab or process changed the stored tokens (`stored`: what storage holds now).
    pub(super) fn stored_changed(&mut self, stored: Option<&str>, now_ms: u64) {
        self.take_stored(stored, now_ms);
    }

    /// Takes what storage holds as the session's tokens; whether the access token changed.
    fn take_stored(&mut self, stored: Option<&str>, now_ms: u64) -> bool {
        if self.write.is_some() {
            return false; // this machine's own write is on its way under the lock: it wins
        }
        let before = self.tokens.as_ref().map(|t| t.access.clone());
        if stored == Some(super::SIGNED_OUT_MARK) {
            if before.is_some() || !self.signed_out {
                self.removed_elsewhere(true, now_ms);
            }
            return before.is_some();
        }
        let read = stored.map(|t| TokenSet::from_storage_for(t, &self.config.client));
        let removed = match read {
            Some(Ok(t)) => {
                self.tokens = Some(t);
                false
            }
            Some(Err(e)) => {
                self.tokens = None;
                self.push(Action::Report(e));
                false
            }
            None => true,
        };
        if removed {
            if before.is_none() {
                return false;
            }
            self.removed_elsewhere(false, now_ms);
            return true;
        }
        self.unsaved = false;
        if before == self.tokens.as_ref().map(|t| t.access.clone()) {
            return false;
        }
        if self.tokens.is_some() {
            self.end_signed_out();
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
    pub(super) fn store_failed(&mut self, slot: Slot, detail: &str) {
        let error = Error::StorageUnavailable { detail: crate::error::clean(detail, 200) };
        match slot {
            Slot::Tokens => {
                let error = self.redacted(error);
                if self.config.memory_ends_with_call {
                    // The session would end with the command: a sign-in that could not be kept is a failure.
                    for action in &mut self.actions {
                        if let Action::Resolve { outcome: outcome @ Ok(Outcome::SignedIn { .. }), .. } = action {
                            *outcome = Err(error.clone());
                        }
                    }
                }
                // Memory still holds the session; the app hears about it once.
                self.unsaved = true;
                if !self.reported_store_failure {
                    self.reported_store_failure = true;
                    self.push(Action::Report(error));
                }
            }
            Slot::SignedOut => {
                // The sign-out holds in this page; a reload may not know of it.
                self.push(Action::Report(error));
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

    /// Signs out: the epoch ends (work in flight dropped, waiters told [`Error::SignedOut`]), the tokens are
    /// forgotten in memory and storage (other tabs told), the access token revoked (one attempt, best effort), and
    /// nothing signs in again until the app asks.
    pub(super) fn logout(&mut self, waiter: Waiter, sso_return: Option<&str>, now_ms: u64) {
        let token = self.tokens.take().map(|t| t.access);
        if token.is_some() {
            self.push(Action::Changed);
        }
        self.unsaved = false;
        self.mark_signed_out();
        // Removed first, under the lock a refresh in flight holds (else once it is granted): no other tab may take
        // the lock in between and refresh the old session again. The revocation and the caller's answer follow.
        let then = Then::SignOut { token, waiter, sso: sso_return.map(str::to_string) };
        // Where another tab could sign in again by itself, the shared slot says why it is empty.
        let mark = (self.config.persistence == Persistence::Shared && self.config.relogin)
            .then(|| super::SIGNED_OUT_MARK.to_string());
        self.write_tokens(mark, Some(Announcement::Logout), Some(then));
        self.end_epoch(now_ms);
        self.remove(Slot::Pending);
    }

    /// The sign-out's last steps: the token revoked (one attempt, best effort), then the caller answered.
    pub(super) fn revoke_then_sign_out(&mut self, token: Option<AccessToken>, waiter: Waiter, sso: Option<String>) {
        let revoke = token.zip(self.config.client.region().api_url("/api/v2/tokens/me").ok());
        match revoke {
            Some((token, url)) => {
                let id = self.id();
                self.revoking = Some((id, waiter, sso));
                self.push(Action::Send(super::Request::Revoke { id, url, token }));
            }
            None => self.signed_out_done(waiter, sso.as_deref()),
        }
    }

    pub(super) fn signed_out_done(&mut self, waiter: Waiter, sso_return: Option<&str>) {
        if let Some(back) = sso_return {
            let url = self.config.client.logout_url(Some(back));
            self.push(Action::Navigate { url });
        }
        self.resolve_one(waiter, Ok(Outcome::SignedOut));
    }

    /// An answer to a token request of an ended epoch: never kept; tokens in it are revoked.
    pub(super) fn late_answer(&mut self, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        let tokens = match reply {
            Reply::Http { body: None, .. } => return self.push(Action::ReadBody { request: id }),
            Reply::Http { status, retry_after, body: Some(body) } => {
                parse_token_response(status, retry_after, body, now_ms).ok()
            }
            Reply::Redirected { .. } | Reply::Network { .. } => None,
        };
        self.abandoned.retain(|a| *a != id);
        if let Some(tokens) = tokens {
            self.revoke(tokens.access);
        }
    }

    /// `DELETE /api/v2/tokens/me` with `token`, its answer ignored.
    fn revoke(&mut self, token: AccessToken) {
        if let Ok(url) = self.config.client.region().api_url("/api/v2/tokens/me") {
            let id = self.id();
            self.push(Action::Send(super::Request::Revoke { id, url, token }));
        }
    }
}
