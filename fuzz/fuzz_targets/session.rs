#![no_main]
//! The session machine under arbitrary event sequences: any answer, stored text, callback or timing a network,
//! storage or URL can produce. It must never panic, and never hand out a token it does not hold.

use genesys_auth::session::{Action, Config, LoginOptions, Persistence, Reply, Request, Session, Slot};
use genesys_auth::{Client, Region};
use libfuzzer_sys::fuzz_target;

mod common;
use common::Fixed;

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
    let mut now = 1_800_000_000_000u64;
    let mut session = Session::new(config, stored, None, now, Box::new(Fixed(3)));
    let mut sent: Vec<u64> = Vec::new();
    for chunk in chunks {
        let (op, rest) = chunk.split_first().unwrap_or((&0, &[]));
        let text = std::str::from_utf8(rest).unwrap_or("");
        let waiter = u64::from(*op);
        now = now.saturating_add(u64::from(*op) * 977);
        match op % 12 {
            0 => session.want_token(waiter, now),
            1 => session.want_refresh(waiter, now),
            2 => session.fetch(waiter, text, now),
            3 => session.callback(waiter, text, Some(text), now),
            4 => session.lock_granted(Some(text), now),
            5 if op & 16 == 0 => session.stored_changed(Some(text), now),
            5 => session.tokens_announced(Some(text), now),
            6 => session.store_failed(Slot::Tokens, text),
            7 => session.login(waiter, &LoginOptions { popup: Some(op & 16 == 0), ..LoginOptions::default() }, now),
            8 => {
                let _ = session.popup_callback(text, now);
            }
            9 => session.handle_timeout(now),
            10 => session.logout(waiter, None, now),
            _ => {
                if let Some(id) = sent.pop() {
                    let status = u16::from(rest.first().copied().unwrap_or(0)) * 2 + 100;
                    let reply = if status == 100 {
                        Reply::Network { detail: text }
                    } else {
                        Reply::Http { status, retry_after: Some(text), body: Some(rest) }
                    };
                    session.answer(id, reply, now);
                }
            }
        }
        while let Some(action) = session.poll_action() {
            match action {
                Action::Send(Request::Token { id, .. } | Request::Api { id, .. } | Request::Revoke { id, .. }) => {
                    sent.push(id)
                }
                Action::Send(_) => {}
                _ => {}
            }
        }
    }
});
