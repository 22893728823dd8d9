#![no_main]
//! The token endpoint answer parser, the JSON reader under it, stored token sets and Retry-After.

use genesys_auth::{TokenSet, api_error, parse_token_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = data.first().map_or(200, |b| [200u16, 400, 401, 429, 502][usize::from(*b) % 5]);
    let body = data.get(1..).unwrap_or(&[]);
    let header = String::from_utf8_lossy(body);
    let _ = parse_token_response(status, Some(&header), body, u64::MAX / 2);
    let _ = api_error(status, Some(&header), body, 0);
    let _ = TokenSet::from_storage(&header);
});
