//! The protocol engine of the npm package (feature `engine`): the core's decisions as synchronous calls, for the
//! package's JavaScript class (`npm/index.js`), which does the browser I/O and the sequencing around them.
//!
//! Why not the Rust driver ([`crate::Auth`]) behind the JS class: async Rust compiled to wasm (state machines,
//! futures glue, a JS binding per browser call) made the package three times the size of the JS libraries it
//! replaces, and bundle size is a product feature. Here the wasm keeps the protocol and security decisions — PKCE,
//! the authorize URL, the pending login and its `state` check, token request bodies, token and error parsing, the
//! retry rules, the API-host rule for tokens, regions, error messages — and JS keeps the waiting and sequencing.
//! Both drivers pass the same end-to-end suites.

use genesys_auth::{
    Callback, Client, Error, Failure, OsRng, PendingLogin, Region, RetryPolicy, Rng, TokenRequest, TokenSet, api_error,
    decimal, form, parse_token_response,
};
use wasm_bindgen::prelude::*;

use crate::browser::StorageKind;
use crate::error::to_js;
use crate::options::{MISSING_CLIENT_ID, MISSING_REGION, retry_policy, whole};

/// Several values in one string, one per line: cheaper across the wasm boundary than an array of strings. None of
/// the values can hold a line break (URLs, form bodies and storage texts are escaped, tokens are printable ASCII,
/// return paths have no control characters).
fn lines(values: &[&str]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(v);
    }
    out
}

/// What the JS class keeps of a token set, one per line: storage text, access token, expires at (epoch ms), `1`
/// with a refresh token else empty. The storage text is what goes to session/local storage and back into
/// [`Engine::refresh`].
fn token_fields(tokens: &TokenSet, client: &Client) -> String {
    let has_refresh = if tokens.refresh.is_some() { "1" } else { "" };
    // Bound to the region and client they were issued for: another configuration refuses them.
    lines(&[&tokens.to_storage_for(client), tokens.access.secret(), &decimal(tokens.expires_at_ms), has_refresh])
}

/// A token request, one line each: URL, form body, then the two headers as name and value, then `extra` if given.
fn request_lines(request: &TokenRequest, extra: Option<&str>) -> String {
    let [(a, b), (c, d)] = TokenRequest::HEADERS;
    let mut out = lines(&[request.url(), request.body(), a, b, c, d]);
    if let Some(extra) = extra {
        out.push('\n');
        out.push_str(extra);
    }
    out
}

/// Epoch or elapsed milliseconds from JS (0 for anything unusable).
fn ms(n: f64) -> u64 {
    whole(Some(n)).unwrap_or(0)
}

/// The engine for one OAuth client.
#[wasm_bindgen]
pub struct Engine {
    client: Client,
    region: Region,
    retry: RetryPolicy,
}

#[wasm_bindgen]
impl Engine {
    /// Checks the options of `GenesysAuth.create`. `retry`: maxAttempts, baseDelayMs, maxDelayMs,
    /// maxRetryAfterMs, maxTotalMs, NaN where not given.
    ///
    /// # Errors
    /// `invalid_config` or `unknown_region`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        region: Option<String>,
        client_id: Option<String>,
        redirect_uri: String,
        storage: Option<String>,
        retry: Option<Box<[f64]>>,
    ) -> Result<Engine, JsValue> {
        let check = || -> Result<Engine, Error> {
            let region = region.ok_or(MISSING_REGION)?;
            let client_id = client_id.ok_or(MISSING_CLIENT_ID)?;
            if let Some(s) = storage {
                StorageKind::parse(&s)?;
            }
            let region = Region::from_config(&region)?;
            let client = Client::new(region.clone(), &client_id, &redirect_uri)?;
            let at = |i: usize| whole(retry.as_ref().and_then(|r| r.get(i)).copied());
            let retry = retry_policy([at(0), at(1), at(2), at(3), at(4)]);
            Ok(Engine { client, region, retry })
        };
        check().map_err(|e| to_js(&e))
    }

    /// Starts a login: authorize URL, pending login and state, one per line; the pending login (verifier, state, return path)
    /// is what the class parks in sessionStorage for the callback; the state names a popup's hand-off channel.
    ///
    /// # Errors
    /// `random_failure` without randomness.
    pub fn authorize(&self, scope: Option<String>, return_to: Option<String>) -> Result<String, JsValue> {
        let mut request = self.client.authorize();
        if let Some(scope) = &scope {
            request = request.scope(scope);
        }
        if let Some(path) = &return_to {
            request = request.return_to(path);
        }
        let (url, pending) = request.build(&mut OsRng, ms(js_sys::Date::now())).map_err(|e| to_js(&e))?;
        Ok(lines(&[&url, &pending.to_storage(), pending.state().secret()]))
    }

    /// Completes a login from the callback URL `href` and the parked `pending` login (checks `state`, surfaces
    /// `?error=`): the token request (see [`Engine::refresh`]), and the return path on a last line when the login had
    /// one.
    ///
    /// # Errors
    /// `no_pending_login`, `corrupt_storage`, `state_mismatch`, `authorization_error`, ...
    pub fn exchange(&self, pending: Option<String>, href: &str) -> Result<String, JsValue> {
        let complete = || -> Result<String, Error> {
            let pending = PendingLogin::from_storage(&pending.ok_or(Error::NoPendingLogin)?)?;
            pending.check_client(&self.client)?;
            let return_to = pending.return_to().map(str::to_string);
            let request = pending.complete(href, ms(js_sys::Date::now()))?;
            Ok(request_lines(&request, return_to.as_deref()))
        };
        complete().map_err(|e| to_js(&e))
    }

    /// The refresh request for the stored token set `text`, one line each: URL, form body, then its two headers as
    /// name and value.
    ///
    /// # Errors
    /// `login_required` without a refresh token, `corrupt_storage`.
    pub fn refresh(&self, text: &str) -> Result<String, JsValue> {
        let tokens = TokenSet::from_storage_for(text, &self.client).map_err(|e| to_js(&e))?;
        let refresh = tokens.refresh.as_ref().ok_or_else(|| to_js(&Error::LoginRequired))?;
        let request = TokenRequest::refresh(&self.client, refresh);
        Ok(request_lines(&request, None))
    }

    /// The token endpoint's answer, parsed: storage text, access token, expires at (epoch ms), and `1` with a
    /// refresh token, one per line; the storage text is what goes to session/local storage and back into
    /// [`Engine::refresh`].
    ///
    /// # Errors
    /// The typed error of the answer; for a refused refresh (`refreshing`), `login_required`.
    pub fn tokens(
        &self,
        status: u16,
        retry_after: Option<String>,
        body: &[u8],
        refreshing: bool,
    ) -> Result<String, JsValue> {
        match parse_token_response(status, retry_after.as_deref(), body, ms(js_sys::Date::now())) {
            Ok(tokens) => Ok(token_fields(&tokens, &self.client)),
            Err(e) if refreshing && e.refresh_refused() => Err(to_js(&Error::LoginRequired)),
            Err(e) => Err(to_js(&e)),
        }
    }

    /// Token fields of stored `text` (untrusted input), or `undefined` for an expired set without refresh token.
    ///
    /// # Errors
    /// `corrupt_storage` for anything unreadable or tampered: the class discards it.
    pub fn load(&self, text: &str) -> Result<Option<String>, JsValue> {
        let tokens = TokenSet::from_storage_for(text, &self.client).map_err(|e| to_js(&e))?;
        let usable = !tokens.needs_refresh(ms(js_sys::Date::now()), 0) || tokens.refresh.is_some();
        Ok(usable.then(|| token_fields(&tokens, &self.client)))
    }

    /// Milliseconds to wait before attempt `attempts + 1`, or `undefined` to stop: the core's retry rules for
    /// an answer with `status` (0: no answer, a network failure) and its `Retry-After`.
    #[wasm_bindgen(js_name = retryDelay)]
    pub fn retry_delay(
        &self,
        status: u16,
        retry_after: Option<String>,
        spends_code: bool,
        attempts: u32,
        elapsed_ms: f64,
    ) -> Option<f64> {
        let mut random = [0u8; 4];
        let _ = OsRng.fill(&mut random);
        let failure = Failure::from_answer((status != 0).then_some(status), retry_after.as_deref());
        self.retry
            .decide(failure, spends_code, attempts, ms(elapsed_ms), u32::from_le_bytes(random), ms(js_sys::Date::now()))
            .map(|d| d as f64)
    }

    /// The typed error for an API answer (401, 429, 5xx).
    #[wasm_bindgen(js_name = apiError)]
    pub fn api_error(&self, status: u16, retry_after: Option<String>, body: &[u8]) -> JsValue {
        to_js(&api_error(status, retry_after.as_deref(), body, ms(js_sys::Date::now())))
    }

    /// The URL `path_or_url` resolves to: a path is relative to the region's API host; an absolute URL must be
    /// on that host (the token is never sent elsewhere).
    ///
    /// # Errors
    /// `invalid_config` for any other URL.
    #[wasm_bindgen(js_name = apiUrl)]
    pub fn api_url(&self, path_or_url: &str) -> Result<String, JsValue> {
        self.region.api_url(path_or_url).map_err(|e| to_js(&e))
    }

    /// `login.<env>/logout?client_id=…&redirectUri=back`: ends the Genesys login session.
    #[wasm_bindgen(js_name = logoutUrl)]
    pub fn logout_url(&self, back: &str) -> String {
        self.client.logout_url(Some(back))
    }

    /// The redirect URI, as registered.
    #[wasm_bindgen(js_name = redirectUri)]
    pub fn redirect_uri(&self) -> String {
        self.client.redirect_uri().to_string()
    }
}

/// Whether to sign in again automatically now, given the stored time of the last automatic sign-in (the core's
/// loop guard: at most once a minute).
#[wasm_bindgen(js_name = reloginAllowed)]
pub fn relogin_allowed(last: Option<String>) -> bool {
    genesys_auth::relogin_allowed(last.as_deref(), ms(js_sys::Date::now()))
}

/// True when `href` carries an OAuth callback (`code` or `error`).
#[wasm_bindgen(js_name = isCallback)]
pub fn is_callback(href: &str) -> bool {
    Callback::is_callback(href)
}

/// The `state` of the callback in `href`, if it has one (it names the popup hand-off channel).
#[wasm_bindgen(js_name = callbackState)]
pub fn callback_state(href: &str) -> Option<String> {
    Callback::parse(href).ok()?.state().map(|s| s.secret().to_string())
}

/// `href` without the OAuth parameters (`code`, `state`, `error`, ...), the app's own parameters kept.
#[wasm_bindgen(js_name = withoutCallback)]
pub fn without_callback(href: &str) -> String {
    genesys_auth::without_callback(href)
}

/// The same-origin path (with query and fragment) of `href`, if it is a safe place to come back to.
#[wasm_bindgen(js_name = returnPath)]
pub fn return_path(href: &str) -> Option<String> {
    genesys_auth::return_path(href)
}

/// `expand` escaped for a query.
#[wasm_bindgen(js_name = queryValue)]
pub fn query_value(expand: &str) -> String {
    form::encode(expand)
}

/// The region Genesys Cloud gives an embedded app in `query` (`gcHostOrigin`, `pcEnvironment`, `gcTargetEnv`),
/// as a name; `allow`: exact origins accepted besides the known regions, one per line. With no parameter,
/// `remembered` (from an earlier page of the round trip) if it still names an acceptable region.
///
/// # Errors
/// `unknown_region` for a parameter naming anything else.
#[wasm_bindgen(js_name = regionFromHostParams)]
pub fn region_from_host_params(
    query: &str,
    allow: &str,
    remembered: Option<String>,
) -> Result<Option<String>, JsValue> {
    let allow: Vec<&str> = allow.lines().filter(|a| !a.is_empty()).collect();
    match Region::from_host_params(query, &allow).map_err(|e| to_js(&e))? {
        Some(region) => Ok(Some(region.name())),
        None => Ok(remembered.filter(|n| Region::parse(n).is_ok() || allow.contains(&n.as_str()))),
    }
}

/// The error for a failure the JS class detects itself: `code` is one of `login_required`, `relogin_loop`,
/// `popup_blocked`, `popup_closed`, `popup_timeout`, `no_storage`, `no_broadcast`, `server_error` and
/// `users_me_not_json` (with the HTTP `status`), else a network error with `detail`.
#[wasm_bindgen]
pub fn failure(code: &str, detail: Option<String>, status: Option<u16>) -> JsValue {
    let status = status.unwrap_or(0);
    let err = match code {
        "server_error" => Error::Server { status },
        "users_me_not_json" => {
            Error::Malformed { status, reason: "the /users/me answer is not JSON", body: String::new() }
        }
        "login_required" => Error::LoginRequired,
        "relogin_loop" => Error::ReloginLoop,
        "popup_blocked" => Error::PopupBlocked,
        "popup_closed" => Error::PopupClosed,
        "popup_timeout" => Error::PopupTimeout,
        "no_storage" => crate::browser::NO_STORAGE,
        "no_broadcast" => crate::popup::NO_BROADCAST,
        "storage_unavailable" => {
            Error::StorageUnavailable { detail: genesys_auth::clean_text(&detail.unwrap_or_default(), 200) }
        }
        _ => Error::Network { detail: detail.unwrap_or_default().chars().take(200).collect() },
    };
    to_js(&err)
}
