//! Errors as JavaScript sees them: `Error` objects named `GenesysAuthError` with a stable `code`.

use genesys_auth::Error;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

/// The JS form of an error: `err.code` (stable), `err.message` (what happened and what to do), and where they
/// apply `err.oauthError`, `err.status`, `err.retryAfterMs`.
pub fn to_js(err: &Error) -> JsValue {
    let e = js_sys::Error::new(&err.message());
    e.set_name("GenesysAuthError");
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&e, &JsValue::from_str(k), &v);
    };
    set("code", err.code().into());
    if let Some(c) = err.oauth_code() {
        set("oauthError", c.as_str().into());
    }
    match err {
        Error::OAuth { status, .. } | Error::Server { status } | Error::Malformed { status, .. } => {
            set("status", (*status).into());
        }
        Error::RateLimited { retry_after_ms: Some(ms) } => set("retryAfterMs", (*ms as f64).into()),
        Error::Unauthorized { code } => set("apiCode", code.as_str().into()),
        _ => {}
    }
    e.into()
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
