//! Errors as JavaScript sees them: `Error` objects named `GenesysAuthError` with a stable `code`.

use genesys_auth::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen(module = "/js/executor.js")]
extern "C" {
    #[wasm_bindgen(js_name = errorFrom)]
    fn error_from(fields: &str) -> JsValue;
}

/// The JS form of an error: `err.code` (stable), `err.message` (what happened and what to do), and where they
/// apply `err.oauthError`, `err.status`, `err.retryAfterMs`, `err.apiCode` — built by the executor from the same
/// fields the engine hands it ([`crate::engine::wire::fields`]).
pub fn to_js(err: &Error) -> JsValue {
    error_from(&crate::engine::wire::fields(err))
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
