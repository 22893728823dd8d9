#![no_main]
//! Region names, origins, custom base URLs and the query parameters Genesys Cloud gives embedded apps.

use genesys_auth::Region;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Region::parse(&text);
    let _ = Region::from_config(&text);
    let _ = Region::custom(&text);
    let _ = Region::from_host_params(&text, &["http://127.0.0.1:8080"]);
});
