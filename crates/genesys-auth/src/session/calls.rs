//! The app's API calls: the token only to the region's API origin, a 401 answered by one refresh and one retry,
//! 429 and 5xx retried per the policy, a redirect never followed.

use super::{Action, Attempt, Call, Outcome, Reply, RequestId, RetryNotice, Session, Waiter, Want};
use crate::{AccessToken, Error, api_error};

impl Session {
    /// A caller wants an authorized API request to `path_or_url`.
    pub(super) fn fetch(&mut self, waiter: Waiter, path_or_url: &str, now_ms: u64) {
        match self.config.client.region().api_url(path_or_url) {
            Err(e) => self.resolve_one(waiter, Err(e)),
            Ok(url) => {
                self.calls.push(Call {
                    waiter,
                    url,
                    sent: None,
                    attempts: 0,
                    started_ms: now_ms,
                    retry_at: None,
                    refreshed: false,
                });
                self.want(Want::Call(waiter), now_ms);
            }
        }
    }

    pub(super) fn send_call(&mut self, waiter: Waiter, token: AccessToken) {
        let id = self.id();
        let Some(call) = self.calls.iter_mut().find(|c| c.waiter == waiter) else { return };
        call.attempts += 1;
        call.sent = Some((id, token.clone()));
        let url = call.url.clone();
        self.push(Action::Send(super::Request::Api { id, waiter, url, token }));
    }

    /// Calls whose pause is over go again (with a token that may need a refresh first).
    pub(super) fn retry_calls(&mut self, now_ms: u64) {
        let due: Vec<Waiter> =
            self.calls.iter().filter(|c| c.retry_at.is_some_and(|t| t <= now_ms)).map(|c| c.waiter).collect();
        for waiter in due {
            if let Some(c) = self.calls.iter_mut().find(|c| c.waiter == waiter) {
                c.retry_at = None;
            }
            self.want(Want::Call(waiter), now_ms);
        }
    }

    pub(super) fn call_answer(&mut self, index: usize, id: RequestId, reply: Reply<'_>, now_ms: u64) {
        let waiter = self.calls[index].waiter;
        let status = super::status_of(&reply);
        if let Reply::Redirected { status } = reply {
            self.calls.remove(index);
            return self.resolve_one(waiter, Err(Error::Redirected { status }));
        }
        if status == 401 && !self.calls[index].refreshed && self.has_refresh_token() {
            // Refused before its time (revoked, idle timeout): one refresh, then one more try.
            self.calls[index].refreshed = true;
            let used = self.calls[index].sent.take().map(|(_, t)| t);
            if let Some(t) = &mut self.tokens
                && used.as_ref() == Some(&t.access)
            {
                t.expires_at_ms = t.expires_at_ms.min(now_ms);
            }
            self.refresh_waiters.push(Want::Call(waiter));
            return self.start_refresh(now_ms);
        }
        if status == 401 {
            let Reply::Http { body: Some(body), retry_after, .. } = reply else {
                return self.push(Action::ReadBody { request: id });
            };
            let error = api_error(401, retry_after, body, now_ms);
            let call = self.calls.remove(index);
            // The session ends, unless another tab or refresh already replaced the refused token.
            let current = self.tokens.as_ref().map(|t| &t.access);
            if current.is_some() && current == call.sent.as_ref().map(|(_, t)| t) {
                self.clear_tokens(None);
            }
            return self.fail_or_relogin(vec![Want::Call(waiter)], error, now_ms);
        }
        let call = &self.calls[index];
        let attempt = Attempt { id, attempts: call.attempts, started_ms: call.started_ms, retry_at: None };
        let url = call.url.clone();
        if let Some(delay_ms) = self.retry_delay(&reply, false, &attempt, now_ms) {
            self.calls[index].retry_at = Some(now_ms.saturating_add(delay_ms));
            self.calls[index].sent = None;
            self.push(Action::Retrying(RetryNotice { url, attempt: attempt.attempts, status, delay_ms }));
            return;
        }
        self.calls.remove(index);
        match reply {
            Reply::Network { detail } => {
                self.resolve_one(waiter, Err(Error::Network { detail: crate::error::clean(detail, 200) }));
            }
            Reply::Http { status, retry_after, .. } if status == 429 || status >= 500 => {
                self.resolve_one(waiter, Err(api_error(status, retry_after, &[], now_ms)));
            }
            Reply::Http { .. } | Reply::Redirected { .. } => {
                self.resolve_one(waiter, Ok(Outcome::Response { request: id }));
            }
        }
    }
}
