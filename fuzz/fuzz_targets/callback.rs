#![no_main]
//! The callback URL parser and a full `PendingLogin::complete` on arbitrary URLs.
//!
//! The pending login's `state` comes from a fixed seed, and `{state}` in the input is replaced by it, so the
//! fuzzer reaches both the refusals and the path that builds the token request (the seed corpus holds such URLs).

use genesys_auth::{Callback, Client, PendingLogin, Region};
use libfuzzer_sys::fuzz_target;

mod common;
use common::Fixed;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Callback::parse(text);
    let _ = PendingLogin::from_storage(text);
    let Ok(region) = Region::custom("http://127.0.0.1:8080") else { return };
    let Ok(client) = Client::new(region, "cid", "http://localhost:3000/") else { return };
    let Ok((_, pending)) = client.authorize().build(&mut Fixed(1), 0) else { return };
    let url = text.replace("{state}", pending.state().secret());
    if let Ok(request) = pending.complete(&url, 1) {
        assert!(request.spends_code());
        assert!(request.body().starts_with("grant_type=authorization_code&code="));
    }
});
