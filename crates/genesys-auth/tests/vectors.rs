//! The shared test vectors (copied into tests/data): regions, RFC 7636, Genesys error bodies.

use genesys_auth::json::Json;
use genesys_auth::{Error, OAuthErrorCode, Region, Verifier, parse_token_response};

fn load(name: &str) -> Json {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Json::parse(&bytes).unwrap_or_else(|| panic!("{path} is not JSON"))
}

fn items<'a>(doc: &'a Json, key: &str) -> &'a [Json] {
    match doc.get(key) {
        Some(Json::Array(items)) => items,
        other => panic!("{key}: {other:?}"),
    }
}

fn text<'a>(v: &'a Json, key: &str) -> &'a str {
    v.get(key).and_then(Json::as_str).unwrap_or_else(|| panic!("{key} in {v:?}"))
}

#[test]
fn every_region_parses_from_every_spelling_to_the_right_hosts() {
    let doc = load("regions.json");
    let regions = items(&doc, "regions");
    assert_eq!(regions.len(), 18);
    for r in regions {
        for spelling in [text(r, "key"), text(r, "aws_region"), text(r, "environment"), text(r, "apps_origin")] {
            let region = Region::parse(spelling).unwrap_or_else(|e| panic!("{spelling}: {e}"));
            assert_eq!(region.login_base(), text(r, "login_base"), "{spelling}");
            assert_eq!(region.api_base(), text(r, "api_base"), "{spelling}");
        }
    }
}

#[test]
fn rfc7636_vectors_and_invalid_verifiers() {
    let doc = load("pkce.json");
    for case in items(&doc, "cases") {
        let v = Verifier::new(text(case, "verifier")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.challenge().as_str(), text(case, "challenge"));
    }
    for bad in items(&doc, "invalid_verifiers") {
        let err = Verifier::new(text(bad, "value")).err();
        assert!(matches!(err, Some(Error::InvalidVerifier { .. })), "{}: {err:?}", text(bad, "why"));
    }
}

#[test]
fn genesys_oauth_error_bodies_become_typed_errors() {
    let doc = load("genesys-errors.json");
    for case in items(&doc, "oauth_errors") {
        let status = case.get("status").and_then(Json::as_i64).and_then(|s| u16::try_from(s).ok()).unwrap_or(0);
        let body = case.get("body").unwrap_or(&Json::Null);
        let raw = format!(
            r#"{{"error":"{}","description":"{}","error_description":"{}"}}"#,
            text(body, "error"),
            text(body, "description"),
            text(body, "error_description")
        );
        match parse_token_response(status, None, raw.as_bytes(), 0) {
            Err(Error::OAuth { code, status: s, description }) => {
                assert_eq!(code, OAuthErrorCode::parse(text(body, "error")));
                assert_ne!(code, OAuthErrorCode::Other(text(body, "error").into()));
                assert_eq!(s, status);
                assert_eq!(description.as_deref(), Some(text(body, "error_description")));
            }
            other => panic!("{raw}: {other:?}"),
        }
    }
    for code in items(&doc, "authorize_errors") {
        let code = code.as_str().unwrap_or("");
        assert!(!matches!(OAuthErrorCode::parse(code), OAuthErrorCode::Other(_)), "{code}");
    }
}
