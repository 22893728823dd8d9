#![no_main]
//! The callback URL parser and a full `PendingLogin::complete` on arbitrary URLs, plus stored pending logins.

use genesys_auth::{Callback, Client, OsRng, PendingLogin, Region};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Callback::parse(text);
    let _ = PendingLogin::from_storage(text);
    if let Ok(region) = Region::custom("http://127.0.0.1:8080") {
        if let Ok(client) = Client::new(region, "cid", "http://localhost:3000/") {
            if let Ok((_, pending)) = client.authorize().build(&mut OsRng, 0) {
                let _ = pending.complete(text, 1);
            }
        }
    }
});
