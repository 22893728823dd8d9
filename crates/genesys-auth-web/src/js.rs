//! The Rust driver as a JS class (feature `js-class`): `GenesysAuth`, generated with wasm-bindgen, with the npm
//! package's API (whose options and error types `npm/index.d.ts` declares). The end-to-end suites run against it as
//! they run against the package, so both drivers are held to the same behaviour.

use genesys_auth::{Error, Region};
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::auth::{Auth, AuthState, Config};
use crate::browser::{self, StorageKind};
use crate::error::to_js;
use crate::http::RetryEvent;
use crate::options::{MISSING_CLIENT_ID, MISSING_REGION, retry_policy, whole};

/// Signs a person in to Genesys Cloud (OAuth Authorization Code + PKCE) and keeps the token valid.
#[wasm_bindgen(js_name = GenesysAuth)]
pub struct JsAuth {
    auth: Auth,
}

fn get(options: &JsValue, key: &str) -> JsValue {
    Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(options: &JsValue, key: &str) -> Option<String> {
    get(options, key).as_string()
}

fn get_u64(options: &JsValue, key: &str) -> Option<u64> {
    whole(get(options, key).as_f64())
}

fn parse_options(options: &JsValue) -> Result<Config, Error> {
    if !options.is_object() {
        return Err(Error::InvalidConfig {
            field: "options",
            reason: "pass an object: { region, clientId, redirectUri?, storage? }",
        });
    }
    let region = get_string(options, "region").ok_or(MISSING_REGION)?;
    let client_id = get_string(options, "clientId").ok_or(MISSING_CLIENT_ID)?;
    let redirect_uri = match get_string(options, "redirectUri") {
        Some(uri) => uri,
        None => {
            let w = browser::window()?;
            let loc = w.location();
            genesys_auth::concat(&[&loc.origin().unwrap_or_default(), &loc.pathname().unwrap_or_default()])
        }
    };
    let mut config = Config::new(Region::from_config(&region)?, &client_id, &redirect_uri);
    let scopes = get(options, "scopes");
    config.scope = if let Some(s) = scopes.as_string() {
        Some(s)
    } else if js_sys::Array::is_array(&scopes) {
        let list: Vec<String> = js_sys::Array::from(&scopes).iter().filter_map(|v| v.as_string()).collect();
        Some(list.join(" "))
    } else {
        None
    };
    if let Some(s) = get_string(options, "storage") {
        config.storage = StorageKind::parse(&s)?;
    }
    if let Some(b) = get(options, "reloginOnExpiry").as_bool() {
        config.relogin = b;
    }
    if let Some(s) = get_u64(options, "refreshSkewSeconds") {
        config.refresh_skew_ms = s.saturating_mul(1000);
    }
    let retry = get(options, "retry");
    if retry.is_object() {
        let at = |key: &str| get_u64(&retry, key);
        config.retry = retry_policy([
            at("maxAttempts"),
            at("baseDelayMs"),
            at("maxDelayMs"),
            at("maxRetryAfterMs"),
            at("maxTotalMs"),
        ]);
    }
    Ok(config)
}

fn state_to_js(state: AuthState) -> JsValue {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"authenticated".into(), &state.authenticated.into());
    let expires = state.expires_at_ms.map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64));
    let _ = Reflect::set(&o, &"expiresAt".into(), &expires);
    o.into()
}

fn retry_to_js(e: &RetryEvent) -> JsValue {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"url".into(), &e.url.as_str().into());
    let _ = Reflect::set(&o, &"attempt".into(), &e.attempt.into());
    let _ = Reflect::set(&o, &"status".into(), &e.status.into());
    let _ = Reflect::set(&o, &"delayMs".into(), &JsValue::from_f64(e.delay_ms as f64));
    o.into()
}

type Work = std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, Error>>>>;

/// One `future_to_promise` for every method: boxing costs nothing noticeable and saves a copy of the promise
/// machinery per method in the bundle.
fn promise(work: Work) -> Promise {
    future_to_promise(async move { work.await.map_err(|e| to_js(&e)) })
}

#[wasm_bindgen(js_class = GenesysAuth)]
impl JsAuth {
    /// Creates the client. Throws a GenesysAuthError (code `invalid_config` / `unknown_region`) for bad options.
    #[wasm_bindgen(unchecked_return_type = "Promise<GenesysAuth>")]
    pub fn create(options: JsValue) -> Promise {
        let result = parse_options(&options).and_then(Auth::new);
        let on_retry = get(&options, "onRetry").dyn_into::<js_sys::Function>().ok();
        promise(Box::pin(async move {
            let auth = result?;
            if let Some(f) = on_retry {
                auth.on_retry(move |e| {
                    let _ = f.call1(&JsValue::NULL, &retry_to_js(e));
                });
            }
            Ok(JsAuth { auth }.into())
        }))
    }

    /// Finishes a login when this page is the callback: resolves to the return path, or `undefined` when the
    /// URL holds no callback. Removes `code` and `state` from the address bar.
    #[wasm_bindgen(js_name = handleRedirectCallback, unchecked_return_type = "Promise<string | undefined>")]
    pub fn handle_redirect_callback(&self) -> Promise {
        let auth = self.auth.clone();
        promise(Box::pin(async move {
            auth.handle_redirect_callback().await.map(|r| r.map_or(JsValue::UNDEFINED, JsValue::from))
        }))
    }

    /// True while the user is signed in.
    #[wasm_bindgen(js_name = isAuthenticated)]
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_authenticated()
    }

    /// The current state: `{ authenticated, expiresAt }`.
    #[wasm_bindgen(unchecked_return_type = "{ authenticated: boolean; expiresAt: number | null }")]
    pub fn state(&self) -> JsValue {
        state_to_js(self.auth.state())
    }

    /// Signs in. By default the browser goes to the Genesys login page and comes back (`returnTo`: a same-origin
    /// path to come back to). Inside an iframe (an app embedded in Genesys Cloud), or with `popup: true`, it
    /// signs in through a popup instead and resolves once signed in — call it from a click handler then.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn login(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ returnTo?: string; popup?: boolean; timeoutMs?: number }")]
        options: JsValue,
    ) -> Promise {
        let popup = get(&options, "popup").as_bool().unwrap_or_else(|| self.auth.is_framed());
        if popup {
            return self.login_with_popup(options);
        }
        let return_to = get_string(&options, "returnTo");
        let result = self.auth.login(return_to.as_deref());
        promise(Box::pin(async move { result.map(|()| JsValue::UNDEFINED) }))
    }

    /// Signs in through a popup and resolves once signed in. Call it from a click handler: browsers block
    /// popups opened without a user gesture (`popup_blocked`). `timeoutMs` defaults to 5 minutes.
    #[wasm_bindgen(js_name = loginWithPopup, unchecked_return_type = "Promise<void>")]
    pub fn login_with_popup(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ timeoutMs?: number }")] options: JsValue,
    ) -> Promise {
        let timeout = get_u64(&options, "timeoutMs").unwrap_or(300_000);
        let work = self.auth.login_with_popup(timeout);
        promise(Box::pin(async move { work.await.map(|()| JsValue::UNDEFINED) }))
    }

    /// True when this page runs inside a frame (as Genesys Cloud shows client apps).
    #[wasm_bindgen(js_name = isFramed)]
    pub fn is_framed(&self) -> bool {
        self.auth.is_framed()
    }

    /// The region Genesys Cloud gives an embedded app in its URL (`gcHostOrigin`, `pcEnvironment`,
    /// `gcTargetEnv`), as a name for `create({ region })`; kept in sessionStorage so it survives a login round
    /// trip. Only known regions are accepted, plus the exact origins in `allow` (e.g. your local emulator).
    /// Returns `undefined` when the URL names none; throws `unknown_region` for anything else.
    #[wasm_bindgen(js_name = regionFromHostParams, unchecked_return_type = "string | undefined")]
    pub fn region_from_host_params(
        #[wasm_bindgen(unchecked_param_type = "{ allow?: string[]; url?: string }")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        const KEY: &str = "genesys-auth:host-region";
        let url = get_string(&options, "url").or_else(|| browser::href().ok()).unwrap_or_default();
        let query = url.split('#').next().unwrap_or("").split_once('?').map_or("", |(_, q)| q);
        let allow_js = get(&options, "allow");
        let allow: Vec<String> = if js_sys::Array::is_array(&allow_js) {
            js_sys::Array::from(&allow_js).iter().filter_map(|v| v.as_string()).collect()
        } else {
            Vec::new()
        };
        let allow: Vec<&str> = allow.iter().map(String::as_str).collect();
        match Region::from_host_params(query, &allow).map_err(|e| to_js(&e))? {
            Some(region) => {
                let name = region.name();
                let _ = browser::storage_set(StorageKind::Session, KEY, &name);
                Ok(JsValue::from_str(&name))
            }
            // After a round trip the parameters may be gone: the region seen on the way in still holds.
            None => Ok(browser::storage_get(StorageKind::Session, KEY)
                .filter(|n| Region::parse(n).is_ok() || allow.contains(&n.as_str()))
                .map_or(JsValue::UNDEFINED, |n| JsValue::from_str(&n))),
        }
    }

    /// A valid access token (refreshed when close to expiry; one refresh shared by all callers). For the
    /// official SDK: `client.setAccessToken(await auth.accessToken())`.
    #[wasm_bindgen(js_name = accessToken, unchecked_return_type = "Promise<string>")]
    pub fn access_token(&self) -> Promise {
        let auth = self.auth.clone();
        promise(Box::pin(async move { auth.access_token().await.map(JsValue::from) }))
    }

    /// Refreshes the tokens now.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(&self) -> Promise {
        let auth = self.auth.clone();
        promise(Box::pin(async move { auth.refresh().await.map(|()| JsValue::UNDEFINED) }))
    }

    /// `fetch` against the region's API host with the Bearer token: a path (`/api/v2/users/me`) or a URL on
    /// that host. One refresh-and-retry on 401; retries on 429/5xx.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        path_or_url: String,
        #[wasm_bindgen(unchecked_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        let auth = self.auth.clone();
        promise(Box::pin(async move { auth.fetch(&path_or_url, &init).await.map(JsValue::from) }))
    }

    /// `GET /api/v2/users/me`, optionally with `expand` (e.g. "presence,routingStatus").
    #[wasm_bindgen(js_name = currentUser, unchecked_return_type = "Promise<any>")]
    pub fn current_user(&self, expand: Option<String>) -> Promise {
        let auth = self.auth.clone();
        promise(Box::pin(async move { auth.current_user(expand.as_deref()).await }))
    }

    /// Signs out: revokes the token, clears storage. `{ sso: true }` also ends the Genesys login session and
    /// returns to `returnTo` (default: the redirect URI).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ sso?: boolean; returnTo?: string }")] options: JsValue,
    ) -> Promise {
        let auth = self.auth.clone();
        let sso = get(&options, "sso").as_bool().unwrap_or(false);
        let back = get_string(&options, "returnTo").unwrap_or_else(|| auth.config().redirect_uri.clone());
        promise(Box::pin(async move { auth.logout(sso.then_some(back.as_str())).await.map(|()| JsValue::UNDEFINED) }))
    }

    /// Calls `listener({ authenticated, expiresAt })` on each login, refresh and logout. Returns an id for
    /// `offTokenChange`.
    #[wasm_bindgen(js_name = onTokenChange)]
    pub fn on_token_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: { authenticated: boolean; expiresAt: number | null }) => void")]
        listener: js_sys::Function,
    ) -> u32 {
        self.auth.subscribe(move |state| {
            let _ = listener.call1(&JsValue::NULL, &state_to_js(state));
        })
    }

    /// Stops a listener added with `onTokenChange`.
    #[wasm_bindgen(js_name = offTokenChange)]
    pub fn off_token_change(&self, id: u32) {
        self.auth.unsubscribe(id);
    }

    /// Why tokens found in storage were discarded at start (tampered or corrupt), if they were.
    #[wasm_bindgen(js_name = discardedStorage, unchecked_return_type = "Error | undefined")]
    pub fn discarded_storage(&self) -> JsValue {
        self.auth.discarded_storage().map_or(JsValue::UNDEFINED, |e| to_js(&e))
    }
}
