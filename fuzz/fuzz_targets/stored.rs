#![no_main]
//! The readers of what storage holds (untrusted: another script, a tampered profile, a foreign region's tokens):
//! the bound token set and the pending login with its configuration check.

use genesys_auth::{Client, PendingLogin, Region, TokenSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(region) = Region::custom("http://127.0.0.1:8080") else { return };
    let Ok(client) = Client::new(region, "cid", "http://localhost:3000/") else { return };
    if let Ok(tokens) = TokenSet::from_storage_for(text, &client) {
        // What is accepted reads back the same when written again.
        let again = TokenSet::from_storage_for(&tokens.to_storage_for(&client), &client);
        assert_eq!(again.as_ref().ok(), Some(&tokens));
    }
    let _ = TokenSet::from_storage(text);
    if let Ok(pending) = PendingLogin::from_storage(text) {
        let _ = pending.check_client(&client);
        assert!(!pending.to_storage().contains('\n'));
    }
});
