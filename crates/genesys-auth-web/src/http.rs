//! HTTP through the browser's `fetch`, with the core's [`RetryPolicy`] applied.

use genesys_auth::concat;
use genesys_auth::{Error, Failure, OsRng, RetryPolicy, Rng, TokenRequest, TokenSet, parse_token_response};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::browser::{now_ms, sleep, window};
use crate::error::from_js;

/// What a retry looks like to an observer: the attempt that failed, why, and the wait before the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryEvent {
    /// The URL (never with a token in it: tokens travel in headers and bodies only).
    pub url: String,
    /// Attempts made so far.
    pub attempt: u32,
    /// HTTP status of the failed attempt, 0 for a network failure.
    pub status: u16,
    /// Milliseconds until the next attempt.
    pub delay_ms: u64,
}

/// Sends one request built by `make` (called again for each attempt), retrying per `policy`.
/// Returns the final response, or the network error of the final attempt.
pub(crate) async fn send_with_retry(
    url: &str,
    make: &dyn Fn() -> Result<Request, Error>,
    policy: &RetryPolicy,
    spends_code: bool,
    on_retry: &dyn Fn(&RetryEvent),
) -> Result<Response, Error> {
    let started = now_ms();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let request = make()?;
        let outcome = JsFuture::from(window()?.fetch_with_request(&request)).await;
        let (failure_status, result) = match outcome {
            Ok(value) => {
                let response: Response = value.unchecked_into();
                (response.status(), Ok(response))
            }
            Err(e) => (0, Err(from_js(&e))),
        };
        let retry_after = result.as_ref().ok().and_then(|r| r.headers().get("retry-after").ok().flatten());
        let failure = Failure::from_answer(result.is_ok().then_some(failure_status), retry_after.as_deref());
        let mut random = [0u8; 4];
        let _ = OsRng.fill(&mut random);
        // The core decides what is retryable (a 2xx or a 404 is not) and how long to wait.
        let decision = policy.decide(
            failure,
            spends_code,
            attempts,
            now_ms().saturating_sub(started),
            u32::from_le_bytes(random),
            now_ms(),
        );
        match decision {
            Some(delay_ms) => {
                on_retry(&RetryEvent { url: url.to_string(), attempt: attempts, status: failure_status, delay_ms });
                sleep(delay_ms).await;
            }
            None => return result,
        }
    }
}

/// A request to `url` with `init` (method, headers, body) and the Bearer `token`.
pub(crate) fn bearer_request(url: &str, init: &RequestInit, token: &str) -> Result<Request, Error> {
    let request = Request::new_with_str_and_init(url, init).map_err(|e| from_js(&e))?;
    request.headers().set("Authorization", &concat(&["Bearer ", token])).map_err(|e| from_js(&e))?;
    Ok(request)
}

/// POSTs a token request and parses the answer.
pub(crate) async fn token_request(
    req: &TokenRequest,
    policy: &RetryPolicy,
    on_retry: &dyn Fn(&RetryEvent),
) -> Result<TokenSet, Error> {
    let make = || {
        let headers = web_sys::Headers::new().map_err(|e| from_js(&e))?;
        for (k, v) in TokenRequest::HEADERS {
            headers.set(k, v).map_err(|e| from_js(&e))?;
        }
        let init = RequestInit::new();
        init.set_method(req.method());
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(req.body()));
        // The token endpoint never needs cookies; a redirect there would be an attack or a misconfiguration.
        init.set_credentials(web_sys::RequestCredentials::Omit);
        init.set_redirect(web_sys::RequestRedirect::Error);
        Request::new_with_str_and_init(req.url(), &init).map_err(|e| from_js(&e))
    };
    let response = send_with_retry(req.url(), &make, policy, req.spends_code(), on_retry).await?;
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let body = read_body(&response).await?;
    parse_token_response(response.status(), retry_after.as_deref(), &body, now_ms())
}

/// The whole body as bytes.
pub(crate) async fn read_body(response: &Response) -> Result<Vec<u8>, Error> {
    let promise = response.array_buffer().map_err(|e| from_js(&e))?;
    let buffer = JsFuture::from(promise).await.map_err(|e| from_js(&e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
