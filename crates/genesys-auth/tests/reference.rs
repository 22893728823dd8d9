//! The hand-written readers kept for bundle size, checked against the well-kept crates that do the same job:
//! the JSON reader against `serde_json`, the IMF-date reader (`Retry-After`) against `httpdate`, base64url against
//! `base64`.

use base64::Engine as _;
use genesys_auth::json::Json;
use genesys_auth::{base64url, parse_retry_after};
use proptest::prelude::*;
use serde_json::Value;

/// What serde_json refuses that ours may accept on purpose: numbers beyond the range of `f64` (`1E309`). Ours keeps
/// numbers as text (no float parsing in the browser bundle) and checks ranges where a number is used
/// ([`Json::as_i64`]); the grammar is the same.
fn only_out_of_range(error: &serde_json::Error) -> bool {
    error.to_string().starts_with("number out of range")
}

/// Our value as serde_json's, numbers compared by their text.
fn as_serde(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => serde_json::from_str(n).unwrap_or(Value::Null),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(as_serde).collect()),
        Json::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), as_serde(v))).collect()),
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The weekday, day, month, year and time of an epoch second, written as an IMF-fixdate by `httpdate`.
fn imf(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Digit strings (and a few others) read as `str::parse::<u64>` reads them, except that a sign is refused.
    #[test]
    fn decimal_matches_std(text in "[+]?[0-9]{0,22}|[0-9 .a-]{0,6}") {
        let expected = if text.starts_with('+') { None } else { text.parse::<u64>().ok() };
        prop_assert_eq!(genesys_auth::parse_decimal(&text), expected);
    }

    /// Any document serde_json writes (no duplicate keys), ours reads to the same value.
    #[test]
    fn json_reads_what_serde_json_writes(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) };
        let text = text.unwrap_or_default();
        let ours = Json::parse(text.as_bytes());
        prop_assert_eq!(ours.as_ref().map(as_serde), Some(v), "{}", text);
    }

    /// On arbitrary JSON-ish text: whatever ours accepts, serde_json accepts as the same value (ours is no laxer).
    #[test]
    fn json_is_never_laxer_than_serde_json(text in r#"[\[\]{}",:0-9a-z\\ .eE+-]{0,40}"#) {
        if let Some(ours) = Json::parse(text.as_bytes()) {
            match serde_json::from_str::<Value>(&text) {
                Ok(reference) => prop_assert_eq!(as_serde(&ours), reference, "{}", text),
                Err(e) => prop_assert!(only_out_of_range(&e), "ours accepted {:?}, serde_json refused it: {}", text, e),
            }
        }
    }

    /// serde_json's own documents with one character changed: whatever ours still accepts, serde_json accepts as
    /// the same value.
    #[test]
    fn json_mutations_are_never_read_more_laxly(v in json_value(), at in any::<prop::sample::Index>(), c in any::<char>(), insert in any::<bool>()) {
        let mut text: Vec<char> = serde_json::to_string(&v).unwrap_or_default().chars().collect();
        let i = at.index(text.len() + 1);
        if insert || i == text.len() { text.insert(i, c) } else { text[i] = c }
        let text: String = text.into_iter().collect();
        if let Some(ours) = Json::parse(text.as_bytes()) {
            match serde_json::from_str::<Value>(&text) {
                Ok(reference) => prop_assert_eq!(as_serde(&ours), reference, "{}", text),
                Err(e) => prop_assert!(only_out_of_range(&e), "ours accepted {:?}, serde_json refused it: {}", text, e),
            }
        }
    }

    /// IMF-fixdate `Retry-After` values read as the same instant as `httpdate` reads them.
    #[test]
    fn imf_dates_agree_with_httpdate(secs in 0u64..253_402_300_799, now_back in 0u64..86_400) {
        let text = imf(secs);
        let reference = httpdate::parse_http_date(&text).ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs());
        prop_assert_eq!(reference, Some(secs));
        let now_ms = secs.saturating_sub(now_back) * 1000;
        prop_assert_eq!(parse_retry_after(&text, now_ms), Some(secs * 1000 - now_ms), "{}", text);
    }

    /// Dates that do not exist (31 Feb, 31 Apr, 29 Feb of a common year) are refused by both.
    #[test]
    fn impossible_dates_are_refused_like_httpdate(year in 1970u32..2400, (month, day) in prop_oneof![
        Just(("Feb", 30u32)), Just(("Feb", 31)), Just(("Apr", 31)), Just(("Jun", 31)), Just(("Sep", 31)), Just(("Nov", 31)),
        Just(("Feb", 29)),
    ]) {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        prop_assume!(!(leap && month == "Feb" && day == 29));
        for weekday in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] {
            let text = format!("{weekday}, {day:02} {month} {year} 00:00:00 GMT");
            prop_assert!(httpdate::parse_http_date(&text).is_err(), "httpdate accepted {}", text);
            prop_assert_eq!(parse_retry_after(&text, 0), None, "{}", text);
        }
    }

    /// base64url without padding, as the `base64` crate writes it.
    #[test]
    fn base64url_agrees_with_the_base64_crate(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(base64url(&bytes), base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes));
    }
}

#[test]
fn numbers_beyond_f64_are_the_one_accepted_difference_and_never_become_integers() {
    // Found by the mutation property in CI: `[-1E309]`.
    let ours = Json::parse(b"[-1E309]").unwrap_or_else(|| panic!("kept as text"));
    let refused = serde_json::from_str::<Value>("[-1E309]").err().unwrap_or_else(|| panic!("serde_json accepted it"));
    assert!(only_out_of_range(&refused), "{refused}");
    let Json::Array(items) = ours else { panic!("{ours:?}") };
    assert_eq!(items[0].as_i64(), None);
    assert_eq!(Json::parse(br#"{"expires_in":1E309}"#).and_then(|j| j.get("expires_in").and_then(Json::as_i64)), None);
}

#[test]
fn duplicate_keys_are_refused_as_repeated_callback_parameters_are() {
    assert_eq!(Json::parse(br#"{"access_token":"a","access_token":"b"}"#), None);
    assert!(Json::parse(br#"{"a":{"k":1},"b":{"k":2}}"#).is_some(), "the same key in different objects is fine");
    let many: String = (0..300).map(|i| format!(r#""k{i}":{i}"#)).collect::<Vec<_>>().join(",");
    assert_eq!(Json::parse(format!("{{{many}}}").as_bytes()), None, "objects are bounded");
}
