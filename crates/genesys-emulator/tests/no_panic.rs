//! Whatever arrives from the network, the handler answers and never panics (property test over routes, methods,
//! queries, bodies and headers, with a valid session in play so deeper paths are reached too).

use bytes::Bytes;
use genesys_emulator::{Config, Emulator};
use proptest::prelude::*;

const ROUTES: [&str; 11] = [
    "/oauth/authorize",
    "/oauth/token",
    "/logout",
    "/api/v2/users/me",
    "/api/v2/tokens/me",
    "/api/v2/organizations/me",
    "/__emulator/faults",
    "/__emulator/clock",
    "/__emulator/config",
    "/__emulator/requests",
    "/",
];
const METHODS: [&str; 6] = ["GET", "POST", "HEAD", "DELETE", "OPTIONS", "PATCH"];

fn request(
    method: &str,
    route: &str,
    query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> http::Request<Bytes> {
    let mut uri = route.to_string();
    let query: String = query.chars().filter(|c| c.is_ascii_graphic() && *c != '#').collect();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }
    let mut b = http::Request::builder().method(method).uri(uri.as_str());
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Bytes::from(body)).unwrap_or_else(|_| http::Request::new(Bytes::new()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_request_gets_an_answer(
        m in 0usize..METHODS.len(),
        r in 0usize..ROUTES.len(),
        query in "[ -~]{0,200}",
        body in proptest::collection::vec(any::<u8>(), 0..400),
        form_body in "[a-z_]{1,12}=[ -~]{0,40}(&[a-z_]{1,12}=[ -~]{0,40}){0,6}",
        use_form in any::<bool>(),
        ct in prop_oneof![Just("application/x-www-form-urlencoded"), Just("application/json"), Just("text/plain; charset=x")],
        auth in "[ -~]{0,60}",
        origin in prop_oneof![Just("http://localhost:3000"), Just("https://evil.example"), Just("")],
        now in 0u64..u64::MAX / 4,
    ) {
        let emu = Emulator::new(Config { auto_login: Some("alex".into()), ..Config::default() });
        let headers = vec![
            ("content-type".to_string(), ct.to_string()),
            ("authorization".to_string(), auth),
            ("origin".to_string(), origin.to_string()),
            ("cookie".to_string(), "gc_emulator_session=x; a=b".to_string()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty() && http::HeaderValue::from_str(v).is_ok())
        .collect::<Vec<_>>();
        let body = if use_form { form_body.into_bytes() } else { body };
        let reply = emu.handle(request(METHODS[m], ROUTES[r], &query, &headers, body), now);
        prop_assert!(reply.response.status().as_u16() >= 200);
    }
}
