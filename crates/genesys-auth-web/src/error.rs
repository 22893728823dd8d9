//! Errors as JavaScript sees them: `Error` objects named `GenesysAuthError` with a stable `code`.

use genesys_auth::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen(module = "/js/error.js")]
extern "C" {
    #[wasm_bindgen(js_name = authError)]
    fn auth_error(
        code: &str,
        message: &str,
        oauth_error: Option<&str>,
        status: Option<u16>,
        retry_after_ms: Option<f64>,
        api_code: Option<&str>,
    ) -> JsValue;
}

/// The JS form of an error: `err.code` (stable), `err.message` (what happened and what to do), and where they
/// apply `err.oauthError`, `err.status`, `err.retryAfterMs`, `err.apiCode`.
pub fn to_js(err: &Error) -> JsValue {
    let (status, retry_after_ms, api_code) = match err {
        Error::OAuth { status, .. } | Error::Server { status } | Error::Malformed { status, .. } => {
            (Some(*status), None, None)
        }
        Error::RateLimited { retry_after_ms: Some(ms) } => (None, Some(*ms as f64), None),
        Error::Unauthorized { code } => (None, None, Some(code.as_str())),
        _ => (None, None, None),
    };
    auth_error(err.code(), &err.message(), err.oauth_code().map(|c| c.as_str()), status, retry_after_ms, api_code)
}

/// A failure reported by the browser (fetch rejected, storage refused, ...) as a network error.
pub(crate) fn from_js(value: &JsValue) -> Error {
    let detail = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown browser error".into());
    Error::Network { detail: detail.chars().take(200).collect() }
}
