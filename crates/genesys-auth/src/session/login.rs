//! The login: by redirect or popup, the callback checked against the pending login, the code exchange (a spent
//! code is retried only when the server said it did not process it), and the automatic sign-in when a session
//! ends, with its loop guard — never after the user signed out.

use super::{
    Action, Attempt, LOGIN_TIMEOUT_MS, Login, LoginOptions, NAVIGATION_GRACE_MS, Navigating, Outcome, Reply, Session,
    Slot, Waiter, Want,
};
use crate::callback::without_callback;
use crate::{Callback, Error, PendingLogin, TokenRequest};

impl Session {
    /// Starts a login: a redirect (the pending login parked in [`Slot::Pending`]) or, inside a frame or when asked,
    /// a popup. The app asked: a signed-out state ends here.
    pub(super) fn login(&mut self, waiter: Waiter, options: &LoginOptions, now_ms: u64) {
        let popup = options.popup.unwrap_or(self.config.framed);
        if popup && !self.config.popup_capable {
            return self.resolve_one(waiter, Err(crate::error::NO_POPUP_CHANNEL));
        }
        let built =
            self.authorize(options.return_to.as_deref(), options.redirect_uri.as_deref(), &options.params, now_ms);
        let (url, pending) = match built {
            Ok(b) => b,
            Err(e) => return self.resolve_one(waiter, Err(e)),
        };
        self.end_signed_out();
        if popup {
            if let Some(Login::Popup { waiter: old, .. }) = self.login.take() {
                self.push(Action::ClosePopup);
                self.resolve_one(old, Err(Error::PopupClosed));
            }
            let state = pending.state().secret().to_string();
            let deadline_ms = now_ms.saturating_add(options.timeout_ms.unwrap_or(LOGIN_TIMEOUT_MS));
            self.login = Some(Login::Popup { waiter, pending, deadline_ms });
            self.push(Action::OpenPopup { url, state });
        } else {
            self.store(Slot::Pending, pending.to_storage());
            self.push(Action::Navigate { url });
            self.push(Action::Resolve { waiters: vec![waiter], outcome: Ok(Outcome::Navigating) });
        }
    }

    /// The browser blocked the popup.
    pub(super) fn popup_blocked(&mut self) {
        if let Some(Login::Popup { waiter, .. }) = self.login.take() {
            self.resolve_one(waiter, Err(Error::PopupBlocked));
        }
    }

    /// The user closed the popup (and no callback came before).
    pub(super) fn popup_closed(&mut self) {
        if let Some(Login::Popup { waiter, .. }) = self.login.take() {
            self.push(Action::ClosePopup);
            self.resolve_one(waiter, Err(Error::PopupClosed));
        }
    }

    /// A popup login past its deadline is given up.
    pub(super) fn popup_timeout(&mut self, now_ms: u64) {
        if matches!(&self.login, Some(Login::Popup { deadline_ms, .. }) if *deadline_ms <= now_ms)
            && let Some(Login::Popup { waiter, .. }) = self.login.take()
        {
            self.push(Action::ClosePopup);
            self.resolve_one(waiter, Err(Error::PopupTimeout));
        }
    }

    /// A callback URL arrived from the popup (or the loopback listener): ignored unless it is the callback of the
    /// login in progress (another `state`, or no login), which then goes on waiting.
    pub(super) fn popup_callback(&mut self, url: &str, now_ms: u64) {
        if !self.is_login_callback(url) {
            return;
        }
        let Some(Login::Popup { waiter, pending, .. }) = self.login.take() else { return };
        self.push(Action::ClosePopup);
        self.complete_login(waiter, Ok(pending), url, now_ms);
    }

    /// The page loaded at `url` (maybe a redirect callback), with the pending login read from [`Slot::Pending`].
    pub(super) fn callback(&mut self, waiter: Waiter, url: &str, pending: Option<&str>, now_ms: u64) {
        if !Callback::is_callback(url) {
            return self.resolve_one(waiter, Ok(Outcome::NoCallback));
        }
        self.push(Action::ReplaceAddress { url: without_callback(url) });
        self.remove(Slot::Pending);
        let client = &self.config.client;
        let pending = pending.ok_or(Error::NoPendingLogin).and_then(|text| {
            let pending = PendingLogin::from_storage(text)?;
            pending.check_client(client).map(|()| pending)
        });
        self.complete_login(waiter, pending, url, now_ms);
    }

    /// Checks the callback `url` against `pending` and exchanges its code, or fails `waiter`.
    fn complete_login(&mut self, waiter: Waiter, pending: Result<PendingLogin, Error>, url: &str, now_ms: u64) {
        let started = pending.and_then(|p| {
            let return_to = p.return_to().map(str::to_string);
            Ok((p.complete(url, now_ms)?, return_to))
        });
        match started {
            Ok((request, return_to)) => self.exchange(waiter, request, return_to, now_ms),
            Err(e) => self.resolve_one(waiter, Err(e)),
        }
    }

    /// The session is over for `wants`: sign in again by redirect when allowed, else fail them with `error`.
    /// Never after the user signed out.
    pub(super) fn fail_or_relogin(&mut self, wants: Vec<Want>, error: Error, now_ms: u64) {
        if wants.is_empty() {
            return;
        }
        if self.signed_out {
            return self.fail_wants(wants, Error::SignedOut);
        }
        let ends_session = matches!(error, Error::LoginRequired | Error::Unauthorized { .. });
        // In a frame the login page cannot load (and a popup needs a click): the app must call login() itself.
        if !ends_session || !self.config.relogin || self.config.framed {
            return self.fail_wants(wants, error);
        }
        let last = self.relogin_at_ms.map(crate::decimal);
        if !crate::relogin_allowed(last.as_deref(), now_ms) {
            return self.fail_wants(wants, Error::ReloginLoop);
        }
        let here = self.here.clone();
        let (url, pending) = match self.authorize(here.as_deref(), None, &[], now_ms) {
            Ok(b) => b,
            Err(e) => return self.fail_wants(wants, e),
        };
        self.relogin_at_ms = Some(now_ms);
        self.store(Slot::Relogin, crate::decimal(now_ms));
        self.store(Slot::Pending, pending.to_storage());
        self.push(Action::Navigate { url });
        let waiters = self.take_waiters(wants);
        let deadline_ms = now_ms.saturating_add(NAVIGATION_GRACE_MS);
        match &mut self.navigating {
            Some(n) => n.waiters.extend(waiters),
            None => self.navigating = Some(Navigating { waiters, error, deadline_ms }),
        }
    }

    fn exchange(&mut self, waiter: Waiter, request: TokenRequest, return_to: Option<String>, now_ms: u64) {
        let id = self.id();
        let again = request.again();
        self.login = Some(Login::Exchange {
            waiter,
            request,
            attempt: Attempt { id, attempts: 1, started_ms: now_ms, retry_at: None },
            return_to,
        });
        self.push(Action::Send(super::Request::Token { id, request: again }));
    }

    pub(super) fn exchange_answer(&mut self, reply: Reply<'_>, now_ms: u64) {
        let Some(Login::Exchange { attempt, .. }) = &self.login else { return };
        let id = attempt.id;
        let Some(result) = self.token_result(id, &reply, now_ms) else { return };
        match result {
            Ok(tokens) => {
                let Some(Login::Exchange { waiter, return_to, .. }) = self.login.take() else { return };
                if let Some(path) = &return_to {
                    self.push(Action::ReplaceAddress { url: path.clone() });
                }
                self.end_signed_out();
                // The caller hears of the sign-in once its tokens are written (under the shared lock).
                self.set_tokens(tokens, Some((waiter, Outcome::SignedIn { return_to })));
            }
            // A spent code is retried only when the server said it did not process it (429).
            Err(e) => {
                if !self.schedule_retry(&reply, true, self.config.client.token_url(), now_ms)
                    && let Some(Login::Exchange { waiter, .. }) = self.login.take()
                {
                    self.resolve_one(waiter, Err(e));
                }
            }
        }
    }

    pub(super) fn authorize(
        &mut self,
        return_to: Option<&str>,
        redirect_uri: Option<&str>,
        params: &[(String, String)],
        now_ms: u64,
    ) -> Result<(String, PendingLogin), Error> {
        let mut request = self.config.client.authorize().params(params)?;
        if let Some(scope) = &self.config.scope {
            request = request.scope(scope);
        }
        if let Some(path) = return_to {
            request = request.return_to(path);
        }
        if let Some(uri) = redirect_uri {
            request = request.redirect_uri(uri);
        }
        request.build(&mut *self.rng, now_ms)
    }
}
