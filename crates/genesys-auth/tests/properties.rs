//! Property tests: alphabets and lengths, round trips, and "no input makes a parser panic".

use genesys_auth::json::Json;
use genesys_auth::{
    Callback, Client, OsRng, PendingLogin, Region, RetryPolicy, TokenSet, Verifier, parse_retry_after,
    parse_token_response, safe_return_path,
};
use proptest::prelude::*;

fn client() -> Client {
    Client::new(
        Region::custom("http://127.0.0.1:8080").unwrap_or_else(|e| panic!("{e}")),
        "cid",
        "http://localhost:3000/",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn form_encoding_matches_the_form_urlencoded_crate(name in any::<String>(), value in any::<String>()) {
        let ours = genesys_auth::form::Form::new().append_pair(&name, &value).finish();
        let reference = form_urlencoded::Serializer::new(String::new()).append_pair(&name, &value).finish();
        prop_assert_eq!(&ours, &reference);
        let back: Vec<(String, String)> = genesys_auth::form::parse(&ours).collect();
        prop_assert_eq!(back, vec![(name, value)]);
    }

    #[test]
    fn form_decoding_matches_the_form_urlencoded_crate(query in "([a-z%+=&]|%[0-9A-Fa-f]{2}|%[0-7][0-9a-f]|[ -~])*") {
        let ours: Vec<(String, String)> = genesys_auth::form::parse(&query).collect();
        let reference: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        // Identical, except where escapes spell bytes that are not UTF-8: the reference substitutes each bad
        // sequence, ours the whole value.
        if reference.iter().all(|(k, v)| !k.contains('\u{FFFD}') && !v.contains('\u{FFFD}')) {
            prop_assert_eq!(ours, reference);
        } else {
            prop_assert_eq!(ours.len(), reference.len());
        }
    }

    #[test]
    fn verifier_accepts_exactly_rfc7636(s in "[A-Za-z0-9._~-]{0,140}") {
        prop_assert_eq!(Verifier::new(s.clone()).is_ok(), (43..=128).contains(&s.len()));
    }

    #[test]
    fn verifier_refuses_any_foreign_character(prefix in "[a-z]{43}", c in any::<char>()) {
        let ok = c.is_ascii_alphanumeric() || "-._~".contains(c);
        prop_assert_eq!(Verifier::new(format!("{prefix}{c}")).is_ok(), ok);
    }

    #[test]
    fn authorize_url_round_trips_user_values(hint in any::<String>(), path in "/[ -~]{0,60}") {
        let (url, pending) = client().authorize().login_hint(&hint).return_to(&path).build(&mut OsRng, 0)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let query = url.split_once('?').map(|x| x.1).unwrap_or("");
        let got: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        prop_assert!(got.contains(&("login_hint".to_string(), hint)));
        prop_assert_eq!(pending.return_to().map(str::to_string), safe_return_path(&path));
        let back = PendingLogin::from_storage(&pending.to_storage()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.to_storage(), pending.to_storage());
    }

    #[test]
    fn safe_return_paths_never_leave_the_origin(path in any::<String>()) {
        if let Some(p) = safe_return_path(&path) {
            prop_assert!(p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'));
        }
    }

    #[test]
    fn parsers_never_panic_on_strings(s in any::<String>()) {
        let _ = Callback::parse(&s);
        let _ = Region::parse(&s);
        let _ = Region::from_config(&s);
        let _ = Region::from_host_params(&s, &["http://127.0.0.1:8080"]);
        let _ = PendingLogin::from_storage(&s);
        let _ = TokenSet::from_storage(&s);
        let _ = parse_retry_after(&s, u64::MAX);
    }

    #[test]
    fn parsers_never_panic_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..512), status in any::<u16>(), now in any::<u64>()) {
        let _ = Json::parse(&b);
        let _ = parse_token_response(status, Some(&String::from_utf8_lossy(&b)), &b, now);
    }

    #[test]
    fn token_like_json_never_panics(access in "[ -~]{0,40}", exp in any::<f64>(), extra in "[ -~]{0,40}") {
        let body = format!(r#"{{"access_token":{access:?},"expires_in":{exp},"x":{extra:?}}}"#);
        let _ = parse_token_response(200, None, body.as_bytes(), u64::MAX);
    }

    /// The statuses that matter (the retryable four and their neighbours) most of the time, any other now and then:
    /// drawn from all 65 536, the retry branch would almost never run.
    #[test]
    fn retry_delays_stay_within_policy(
        status in prop_oneof![4 => prop::sample::select(vec![429u16, 502, 503, 504, 500, 501, 505, 400, 401, 200]), 1 => any::<u16>()],
        ra in prop_oneof![Just(None), (0u64..400_000).prop_map(|s| Some(s.to_string())), any::<String>().prop_map(Some)],
        spends_code in any::<bool>(),
        attempts in 0u32..10,
        elapsed in 0u64..120_000,
        r in any::<u32>(),
    ) {
        let p = RetryPolicy::default();
        let fail = genesys_auth::Failure::Status { status, retry_after: ra.as_deref() };
        match p.decide(fail, spends_code, attempts, elapsed, r, 0) {
            Some(d) => {
                prop_assert!(matches!(status, 429 | 502..=504), "{status} retried");
                prop_assert!(!spends_code || status == 429, "a spent code is retried only on 429");
                prop_assert!(d <= p.max_retry_after_ms && elapsed.saturating_add(d) <= p.max_total_ms);
                prop_assert!(attempts < p.max_attempts);
                // Retry-After in seconds, when readable and within the cap, is the wait itself.
                if let (429, Some(Ok(secs))) = (status, ra.as_deref().map(str::parse::<u64>)) {
                    prop_assert_eq!(d, secs * 1000);
                }
            }
            None => {
                // A retryable first failure within every bound is always retried.
                let fresh = attempts < p.max_attempts && elapsed + p.max_delay_ms <= p.max_total_ms;
                let no_header = ra.is_none();
                if fresh && no_header && !spends_code && matches!(status, 502..=504) {
                    prop_assert!(false, "{status} after {attempts} attempts was not retried");
                }
            }
        }
    }
}
