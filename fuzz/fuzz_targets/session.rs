#![no_main]
//! The session machine under arbitrary event sequences: any answer, stored text, callback or timing a network,
//! storage or URL can produce. It must never panic, never hand out a token that did not come from its inputs (an
//! answer or a stored text), and never send a token anywhere but the region's API origin.

use genesys_auth::session::{
    Action, Announcement, Config, Event, LoginOptions, Outcome, Persistence, Reply, Request, Restored, Session, Slot,
};
use genesys_auth::{Client, Region};
use libfuzzer_sys::fuzz_target;

mod common;
use common::Fixed;

const API: &str = "http://127.0.0.1:8080/api/";

fuzz_target!(|data: &[u8]| {
    let Ok(region) = Region::custom("http://127.0.0.1:8080") else { return };
    let Ok(client) = Client::new(region, "cid", "http://localhost:3000/") else { return };
    let mut chunks = data.split(|b| *b == 0xff);
    let head = chunks.next().unwrap_or_default();
    let mut config = Config::new(client);
    config.persistence = match head.first().copied().unwrap_or(0) % 3 {
        0 => Persistence::Memory,
        1 => Persistence::Private,
        _ => Persistence::Shared,
    };
    config.framed = head.get(1).is_some_and(|b| b & 1 == 1);
    let stored = chunks.next().and_then(|c| std::str::from_utf8(c).ok());
    // Every text the machine was given: a token it hands out or sends must be in one of them.
    let mut inputs: Vec<Vec<u8>> = stored.map(|s| s.as_bytes().to_vec()).into_iter().collect();
    let mut now = 1_800_000_000_000u64;
    let mut session = Session::new(config, Box::new(Fixed(3)));
    session.handle(Event::Restored(Restored { tokens: stored, ..Restored::default() }), now);
    let mut sent: Vec<u64> = Vec::new();
    for chunk in chunks {
        let (op, rest) = chunk.split_first().unwrap_or((&0, &[]));
        let text = std::str::from_utf8(rest).unwrap_or("");
        let waiter = u64::from(*op);
        now = now.saturating_add(u64::from(*op) * 977);
        if matches!(op % 14, 3..=5 | 8 | 11 | 13) {
            inputs.push(rest.to_vec());
        }
        let event = match op % 14 {
            0 => Event::WantToken { waiter },
            1 => Event::WantRefresh { waiter },
            2 => Event::Fetch { waiter, path_or_url: text },
            3 => Event::Callback { waiter, url: text, pending: Some(text) },
            4 => Event::LockGranted { stored: Some(text) },
            5 if op & 16 == 0 => Event::StoredChanged { stored: Some(text) },
            5 => Event::Announced { announcement: Announcement::Tokens, stored: Some(text) },
            6 => Event::StoreFailed { slot: Slot::Tokens, detail: text },
            7 => Event::Login { waiter, options: LoginOptions { popup: Some(op & 16 == 0), ..LoginOptions::default() } },
            8 => Event::PopupCallback { url: text },
            9 => Event::Timeout,
            10 => Event::Logout { waiter, sso_return: None },
            12 => Event::Announced { announcement: Announcement::Logout, stored: (op & 16 == 0).then_some(text) },
            13 => Event::LockUnavailable { stored: Some(text), detail: "refused" },
            _ => match sent.pop() {
                Some(id) => {
                    let status = u16::from(rest.first().copied().unwrap_or(0)) * 2 + 100;
                    let reply = if status == 100 {
                        Reply::Network { detail: text }
                    } else {
                        Reply::Http { status, retry_after: Some(text), body: Some(rest) }
                    };
                    Event::Answer { id, reply }
                }
                None => Event::Timeout,
            },
        };
        session.handle(event, now);
        while let Some(action) = session.poll_action() {
            let from_inputs = |token: &str| !token.is_empty() && inputs.iter().any(|i| contains(i, token.as_bytes()));
            match action {
                Action::Send(Request::Token { id, .. }) => sent.push(id),
                Action::Send(Request::Api { id, url, token, .. } | Request::Revoke { id, url, token }) => {
                    assert!(url.starts_with(API), "a token sent to {url}");
                    assert!(from_inputs(token.secret()), "a token sent that no input held");
                    sent.push(id);
                }
                Action::Resolve { outcome: Ok(Outcome::Token(token)), .. } => {
                    assert!(from_inputs(token.secret()), "a token handed out that no input held");
                }
                _ => {}
            }
        }
    }
});

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
