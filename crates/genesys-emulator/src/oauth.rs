//! The login host: `/oauth/authorize` (login page or scripted login), `/oauth/token`, `/logout`.

use bytes::Bytes;
use genesys_auth::Verifier;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

use crate::config::{ClientConfig, RefreshPolicy};
use crate::store::{Access, CodeGrant, Refresh};
use crate::{Call, Ctx, form, json_response, page, param};

const SESSION_COOKIE: &str = "gc_emulator_session";

/// A Genesys OAuth error body: `{"error","description","error_description"}`.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response<Bytes> {
    let mut r =
        json_response(status, &json!({"error": error, "description": description, "error_description": description}));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn token_error(ctx: &mut Ctx<'_>, status: StatusCode, error: &str, description: &str) -> Response<Bytes> {
    ctx.error = Some(error.to_string());
    oauth_error(status, error, description)
}

/// `redirect_uri` with these parameters added to its query.
fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response<Bytes> {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    redirect(&format!("{redirect_uri}{sep}{}", q.finish()))
}

fn redirect(location: &str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An authorize request that passed client and redirect checks.
struct Authorize<'a> {
    client: &'a ClientConfig,
    redirect_uri: String,
    state: Option<String>,
    challenge: String,
    method: String,
    prompt_login: bool,
    login_hint: Option<String>,
}

/// Validates an authorize request. `Err` is the complete answer: an HTML page when the client or redirect URI
/// cannot be trusted (never a redirect then), else an error sent back to the redirect URI.
fn validate<'c>(ctx: &Ctx<'c>, pairs: Option<Vec<(String, String)>>) -> Result<Authorize<'c>, Response<Bytes>> {
    let Some(pairs) = pairs else {
        return Err(page::error_page(StatusCode::BAD_REQUEST, "A parameter is repeated in the authorize request."));
    };
    let get = |k: &str| param(&pairs, k);
    let Some(client) = get("client_id").and_then(|id| ctx.config.client(id)) else {
        return Err(page::error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client_id: no OAuth client with this id exists in this org.",
        ));
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|r| client.accepts_redirect(r)) else {
        return Err(page::error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is missing or not registered on this OAuth client (it must match exactly).",
        ));
    };
    let state = get("state").map(str::to_string);
    let fail = |error: &str, description: &str| {
        let mut p = vec![("error", error), ("error_description", description)];
        if let Some(s) = &state {
            p.push(("state", s));
        }
        redirect_with(redirect_uri, &p)
    };
    if get("response_type") != Some("code") {
        return Err(fail("unsupported_response_type", "response_type must be code"));
    }
    let method = get("code_challenge_method").unwrap_or("plain");
    let Some(challenge) = get("code_challenge") else {
        return Err(fail("invalid_request", "code_challenge is required (PKCE)"));
    };
    let method_ok = method == "S256" || (method == "plain" && ctx.config.allow_plain_pkce);
    let challenge_ok = if method == "S256" {
        challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    } else {
        Verifier::new(challenge).is_ok()
    };
    if !method_ok || !challenge_ok {
        return Err(fail("invalid_pkce_package", "code_challenge_method must be S256 with a valid code_challenge"));
    }
    Ok(Authorize {
        client,
        redirect_uri: redirect_uri.to_string(),
        state,
        challenge: challenge.to_string(),
        method: method.to_string(),
        prompt_login: get("prompt") == Some("login"),
        login_hint: get("login_hint").map(str::to_string),
    })
}

/// Issues a code for `user_id` and redirects back.
fn approve(ctx: &mut Ctx<'_>, a: &Authorize<'_>, user_id: &str, now_ms: u64) -> Response<Bytes> {
    let code = ctx.token();
    ctx.store.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: a.client.id.clone(),
            redirect_uri: a.redirect_uri.clone(),
            challenge: a.challenge.clone(),
            method: a.method.clone(),
            user_id: user_id.to_string(),
            expires_at_ms: now_ms.saturating_add(ctx.config.code_lifetime_s.saturating_mul(1000)),
            family: None,
        },
    );
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = &a.state {
        p.push(("state", s));
    }
    redirect_with(&a.redirect_uri, &p)
}

fn session_user(ctx: &Ctx<'_>, call: &Call<'_>) -> Option<String> {
    let cookies = call.headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == SESSION_COOKIE)?.1;
    ctx.store.sessions.get(value).map(|(user, _)| user.clone())
}

/// `GET /oauth/authorize`.
pub(crate) fn authorize(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    let a = match validate(ctx, form(call.query.as_bytes())) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Some(who) = &ctx.config.auto_login
        && let Some(user) = ctx.config.user(who)
    {
        let id = user.id.clone();
        return approve(ctx, &a, &id, call.now_ms);
    }
    // A loopback redirect can be claimed by any local program, so an existing session does not approve one
    // silently (RFC 8252 §8.6): the user sees the page.
    if !a.prompt_login
        && !is_loopback_redirect(&a.redirect_uri)
        && let Some(user_id) = session_user(ctx, call)
    {
        return approve(ctx, &a, &user_id, call.now_ms);
    }
    let csrf = new_csrf(ctx, call.now_ms);
    page::html(StatusCode::OK, &page::login(ctx.config, call.query, a.client, a.login_hint.as_deref(), &csrf))
}

/// A native app's loopback redirect: `http://127.0.0.1[:port]/…` or `http://[::1]…` (RFC 8252 §7.3; web pages
/// under development use `localhost` with their own registered port).
fn is_loopback_redirect(uri: &str) -> bool {
    ["http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| uri.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])))
}

/// A one-time token for the login form: a decision without one from a page this emulator served is refused
/// (cross-site request forgery).
fn new_csrf(ctx: &mut Ctx<'_>, now_ms: u64) -> String {
    let token = ctx.token();
    ctx.store.add_csrf(token.clone(), now_ms);
    token
}

/// `POST /oauth/authorize`: the login page's Approve / Deny.
pub(crate) fn decision(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    let Some(fields) = form(call.body) else {
        return page::error_page(StatusCode::BAD_REQUEST, "A field is repeated in the login form.");
    };
    // The form must come from a login page served here, recently, and be used once.
    let issued = param(&fields, "csrf").and_then(|t| ctx.store.csrf.remove(t));
    if issued.is_none_or(|at| call.now_ms.saturating_sub(at) > crate::store::CSRF_LIFETIME_MS) {
        return page::error_page(
            StatusCode::FORBIDDEN,
            "This sign-in form expired or did not come from this login page. Start the sign-in again from the app.",
        );
    }
    // The original authorize query travels in a hidden field and is validated again in full.
    let query = param(&fields, "authorize_query").unwrap_or("");
    let a = match validate(ctx, form(query.as_bytes())) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if param(&fields, "decision") != Some("approve") {
        let mut p = vec![("error", "access_denied"), ("error_description", "The user denied the request")];
        if let Some(s) = &a.state {
            p.push(("state", s));
        }
        return redirect_with(&a.redirect_uri, &p);
    }
    let typed = param(&fields, "user_typed").map(str::trim).filter(|t| !t.is_empty());
    let who = typed.or_else(|| param(&fields, "user")).unwrap_or("").trim();
    let Some(user) = ctx.config.user(who) else {
        return page::html(
            StatusCode::OK,
            &page::login_with_error(
                ctx.config,
                query,
                a.client,
                who,
                "No test user with that name or email.",
                &new_csrf(ctx, call.now_ms),
            ),
        );
    };
    let user_id = user.id.clone();
    let session = ctx.token();
    ctx.store.add_session(session.clone(), user_id.clone(), call.now_ms);
    let mut r = approve(ctx, &a, &user_id, call.now_ms);
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /logout`: ends the login session; back to a registered redirect URI, or a signed-out page.
pub(crate) fn logout(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    if let Some(user) = session_user(ctx, call) {
        ctx.store.sessions.retain(|_, (u, _)| *u != user);
    }
    let pairs = form(call.query.as_bytes()).unwrap_or_default();
    let client = param(&pairs, "client_id").and_then(|id| ctx.config.client(id));
    let target = param(&pairs, "redirect_uri").filter(|r| client.is_some_and(|c| c.accepts_redirect(r)));
    let mut r = match target {
        Some(uri) => redirect(uri),
        None => page::html(StatusCode::OK, &page::signed_out()),
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Path=/; Max-Age=0")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /oauth/token`.
pub(crate) fn token(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    let is_form = call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !is_form {
        return token_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let Some(fields) = form(call.body) else {
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_request", "a parameter is repeated");
    };
    let grant_type = param(&fields, "grant_type").unwrap_or("").to_string();
    ctx.grant_type = Some(grant_type.clone());

    // Client: `client_id` in the body and/or HTTP Basic (the Genesys CLI sends `base64(client_id:)`).
    let (basic_id, basic_secret) = basic_auth(call).unwrap_or_default();
    let client_id =
        param(&fields, "client_id").map(str::to_string).or_else(|| (!basic_id.is_empty()).then(|| basic_id.clone()));
    let Some(client) = client_id.as_deref().and_then(|id| ctx.config.client(id)) else {
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_client", "client not found");
    };
    if !basic_id.is_empty() && basic_id != client.id {
        return token_error(ctx, StatusCode::UNAUTHORIZED, "invalid_client", "authentication failed");
    }
    let secret = param(&fields, "client_secret")
        .map(str::to_string)
        .or_else(|| (!basic_secret.is_empty()).then_some(basic_secret));
    let authenticated = match (&client.secret, &secret) {
        (Some(want), Some(got)) => want == got,
        (None, None) => true,
        (Some(_), None) => false,
        (None, Some(got)) => got.is_empty(),
    };
    if client.is_confidential() && !authenticated
        || !client.is_confidential() && secret.as_deref().is_some_and(|s| !s.is_empty())
    {
        return token_error(ctx, StatusCode::UNAUTHORIZED, "invalid_client", "authentication failed");
    }
    let client = client.clone();
    match grant_type.as_str() {
        "authorization_code" => code_grant(ctx, &client, &fields, call.now_ms),
        "refresh_token" => refresh_grant(ctx, &client, &fields, call.now_ms),
        "" => token_error(ctx, StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
        _ => token_error(ctx, StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type is not supported"),
    }
}

fn basic_auth(call: &Call<'_>) -> Option<(String, String)> {
    let v = call.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    // Strict standard base64 with padding (RFC 7617): anything else is no credential at all.
    let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn token_duration_s(ctx: &Ctx<'_>, client: &ClientConfig) -> u64 {
    client.token_duration_s.unwrap_or(ctx.config.token_duration_s)
}

fn refresh_allowed(ctx: &Ctx<'_>, client: &ClientConfig) -> bool {
    match ctx.config.refresh.policy {
        RefreshPolicy::None => false,
        RefreshPolicy::ConfidentialOnly => client.is_confidential(),
        RefreshPolicy::Public => true,
    }
}

/// The token endpoint's success body (a struct serializes faster than a JSON map under load).
#[derive(serde::Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

/// Issues an access token in `family`, with a new refresh token when allowed (and `may_refresh`), or
/// `kept_refresh` (no rotation).
fn issue(
    ctx: &mut Ctx<'_>,
    client: &ClientConfig,
    family: u64,
    now_ms: u64,
    kept_refresh: Option<&str>,
    may_refresh: bool,
) -> Response<Bytes> {
    let duration = token_duration_s(ctx, client);
    let access = ctx.token();
    ctx.store.access.insert(
        access.clone(),
        Access {
            family,
            expires_at_ms: now_ms.saturating_add(duration.saturating_mul(1000)),
            last_used_ms: now_ms,
            issued_at_ms: now_ms,
            revoked: false,
        },
    );
    let refresh = if let Some(kept) = kept_refresh {
        Some(kept.to_string())
    } else if may_refresh && refresh_allowed(ctx, client) {
        let family_expiry = ctx.store.families.get(&family).map_or(now_ms, |f| f.expires_at_ms);
        let refresh = ctx.token();
        ctx.store.refresh.insert(refresh.clone(), Refresh { family, expires_at_ms: family_expiry, used: false });
        Some(refresh)
    } else {
        None
    };
    let body = TokenBody {
        access_token: &access,
        token_type: "bearer",
        expires_in: duration,
        refresh_token: refresh.as_deref(),
    };
    let mut r = json_response(StatusCode::OK, &body);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn code_grant(ctx: &mut Ctx<'_>, client: &ClientConfig, fields: &[(String, String)], now_ms: u64) -> Response<Bytes> {
    let bad_grant = |ctx: &mut Ctx<'_>, why: &str| token_error(ctx, StatusCode::BAD_REQUEST, "invalid_grant", why);
    let Some(code) = param(fields, "code") else {
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_request", "code is required");
    };
    let Some(verifier) = param(fields, "code_verifier") else {
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_request", "code_verifier is required (PKCE)");
    };
    let Some(grant) = ctx.store.codes.get(code) else {
        return bad_grant(ctx, "authorization code is invalid or expired");
    };
    if let Some(family) = grant.family {
        // A replayed code: revoke everything it issued (RFC 6749 §4.1.2).
        ctx.store.revoke_family(family);
        return bad_grant(ctx, "authorization code was already used");
    }
    if grant.expires_at_ms <= now_ms {
        return bad_grant(ctx, "authorization code is invalid or expired");
    }
    if grant.client_id != client.id {
        return bad_grant(ctx, "authorization code was issued to another client");
    }
    if param(fields, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return bad_grant(ctx, "redirect_uri does not match the authorize request");
    }
    if !(43..=128).contains(&verifier.len()) {
        // Said as such: "does not match" would send the developer looking in the wrong place.
        return bad_grant(ctx, "code_verifier must be 43..128 characters (RFC 7636 §4.1)");
    }
    let matches = if grant.method == "S256" {
        Verifier::new(verifier).is_ok_and(|v| v.challenge().as_str() == grant.challenge)
    } else {
        Verifier::new(verifier).is_ok() && verifier == grant.challenge
    };
    if !matches {
        return bad_grant(ctx, "code_verifier does not match the code_challenge");
    }
    let user_id = grant.user_id.clone();
    let family_expiry = now_ms.saturating_add(ctx.config.refresh.max_lifetime_s.saturating_mul(1000));
    let family = ctx.store.new_family(&client.id, &user_id, family_expiry);
    if let Some(g) = ctx.store.codes.get_mut(code) {
        g.family = Some(family);
    }
    // While the org's inactivity timeout is on, Genesys Cloud issues no refresh token for code authorization
    // (help center, "Set an automatic inactivity timeout"): the app keeps its session by signing in again.
    let may_refresh = ctx.config.idle_timeout_s == 0;
    issue(ctx, client, family, now_ms, None, may_refresh)
}

fn refresh_grant(
    ctx: &mut Ctx<'_>,
    client: &ClientConfig,
    fields: &[(String, String)],
    now_ms: u64,
) -> Response<Bytes> {
    if !refresh_allowed(ctx, client) {
        return token_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the refresh_token grant is not enabled for this client",
        );
    }
    let Some(token) = param(fields, "refresh_token") else {
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
    };
    let Some(r) = ctx.store.refresh.get(token) else {
        return token_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh token is invalid, expired or revoked",
        );
    };
    let family = r.family;
    let family_client_ok = ctx.store.families.get(&family).is_some_and(|f| f.client_id == client.id);
    if !family_client_ok {
        return token_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh token was issued to another client",
        );
    }
    if r.used {
        if ctx.config.refresh.reuse_detection {
            ctx.store.revoke_family(family);
        }
        return token_error(ctx, StatusCode::BAD_REQUEST, "invalid_grant", "refresh token was already used");
    }
    if r.expires_at_ms <= now_ms || !ctx.store.family_alive(family) {
        return token_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh token is invalid, expired or revoked",
        );
    }
    if ctx.config.refresh.rotation {
        if ctx.config.refresh.reuse_detection {
            if let Some(r) = ctx.store.refresh.get_mut(token) {
                r.used = true;
            }
        } else {
            ctx.store.refresh.remove(token);
        }
        issue(ctx, client, family, now_ms, None, true)
    } else {
        // Without rotation the same refresh token stays valid and is sent back unchanged.
        issue(ctx, client, family, now_ms, Some(token), true)
    }
}
