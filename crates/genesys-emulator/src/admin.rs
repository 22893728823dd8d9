//! Test controls under `/__emulator/` (a path no Genesys route uses): fault injection, request log, clock,
//! settings, reset. The same controls exist as methods on [`Emulator`](crate::Emulator).
//!
//! | method and path | body | effect |
//! |---|---|---|
//! | `POST /__emulator/faults` | a [`Fault`] as JSON | adds a fault rule |
//! | `DELETE /__emulator/faults` | | removes all fault rules |
//! | `GET /__emulator/requests` | | the request log as JSON (no secrets) |
//! | `DELETE /__emulator/requests` | | clears the log |
//! | `POST /__emulator/clock` | `{"advance_ms": n}` | moves the emulator's clock forward |
//! | `PATCH /__emulator/config` | partial config as JSON | changes settings (e.g. `{"refresh":{"policy":"none"}}`) |
//! | `POST /__emulator/reset` | | forgets codes, tokens, sessions, faults, log, clock offset and config changes |

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Call, Config, Inner, Reply, json_response};

/// A fault rule: what to do to matching requests instead of (or before) answering normally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Path the rule applies to (exact match), e.g. `/oauth/token` or `/api/v2/users/me`.
    pub route: String,
    /// Only this method (e.g. `POST`); any when absent. Preflight (`OPTIONS`) requests are never faulted.
    pub method: Option<String>,
    /// Only token requests of this grant type (`authorization_code`, `refresh_token`).
    pub grant_type: Option<String>,
    /// How many matching requests it applies to; 0 = always. Default 1.
    pub times: u32,
    /// Answer with this status instead of the real answer.
    pub status: Option<u16>,
    /// The body of that answer (default: a Genesys error body for the status).
    pub body: Option<String>,
    /// Content type of `body` (default `application/json`).
    pub content_type: Option<String>,
    /// Add `Retry-After` with this value.
    pub retry_after: Option<String>,
    /// Add `Location` with this value (with a 3xx `status`: a redirect, e.g. to another origin).
    pub location: Option<String>,
    /// Answer with truncated JSON (status 200 unless `status` says otherwise).
    pub malformed_json: bool,
    /// Close the connection without answering.
    pub drop_connection: bool,
    /// Wait this long first (alone: then answer normally).
    pub delay_ms: Option<u64>,
}

impl Default for Fault {
    /// A rule that applies once and does nothing yet: set `route` and what it should do.
    fn default() -> Self {
        Fault {
            route: String::new(),
            method: None,
            grant_type: None,
            times: 1,
            status: None,
            body: None,
            content_type: None,
            retry_after: None,
            location: None,
            malformed_json: false,
            drop_connection: false,
            delay_ms: None,
        }
    }
}

impl Fault {
    /// True when the rule replaces the real answer (rather than only delaying it).
    pub fn answers(&self) -> bool {
        self.status.is_some() || self.malformed_json || self.drop_connection
    }

    fn matches(&self, call: &Call<'_>) -> bool {
        if call.path != self.route || call.method == Method::OPTIONS {
            return false;
        }
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(call.method.as_str())) {
            return false;
        }
        match &self.grant_type {
            Some(g) => crate::form(call.body)
                .as_deref()
                .and_then(|f| crate::param(f, "grant_type"))
                .is_some_and(|got| got == g),
            None => true,
        }
    }

    /// The answer this rule gives.
    pub fn reply(&self) -> Reply {
        let status = StatusCode::from_u16(self.status.unwrap_or(200)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match (&self.body, self.malformed_json) {
            (_, true) => r#"{"access_token":"eyJhbGciOi"#.to_string(),
            (Some(b), false) => b.clone(),
            (None, false) => json!({
                "message": "injected fault",
                "code": if status == StatusCode::TOO_MANY_REQUESTS { "too.many.requests" } else { "internal.server.error" },
                "status": status.as_u16(),
                "contextId": "00000000-0000-4000-8000-00000000fa17",
                "details": [],
                "errors": [],
            })
            .to_string(),
        };
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = status;
        let ct = self.content_type.as_deref().unwrap_or("application/json");
        if let Ok(v) = HeaderValue::from_str(ct) {
            response.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        if let Some(ra) = self.retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, ra);
        }
        if let Some(to) = self.location.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(header::LOCATION, to);
        }
        Reply { response, delay_ms: self.delay_ms.unwrap_or(0), drop_connection: self.drop_connection }
    }
}

fn new_fault(value: Value) -> Result<Fault, String> {
    let fault: Fault = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if fault.route.is_empty() {
        return Err("route is required, e.g. \"/oauth/token\"".into());
    }
    Ok(fault)
}

/// The first matching fault rule, used up by one.
pub(crate) fn take_fault(faults: &mut Vec<Fault>, call: &Call<'_>) -> Option<Fault> {
    let i = faults.iter().position(|f| f.matches(call))?;
    let fault = faults[i].clone();
    match faults[i].times {
        0 => {}
        1 => {
            faults.remove(i);
        }
        _ => faults[i].times -= 1,
    }
    Some(fault)
}

/// Fault rules held at once.
const MAX_FAULTS: usize = 1000;

/// The clock moves at most ten years per call (beyond that, times stop meaning anything).
const MAX_CLOCK_ADVANCE_MS: u64 = 10 * 365 * 86_400_000;

fn bad(message: impl Into<String>) -> Reply {
    Reply::from(json_response(StatusCode::BAD_REQUEST, &json!({"message": message.into()})))
}

fn empty(status: StatusCode) -> Reply {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    Reply::from(r)
}

/// `host[:port]` names a loopback address.
fn is_loopback_host(host: &str) -> bool {
    let (name, rest) = match host.find(']') {
        Some(i) if host.starts_with('[') => host.split_at(i + 1),
        _ => host.find(':').map_or((host, ""), |i| host.split_at(i)),
    };
    let port_ok = rest.is_empty()
        || rest.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Who may drive the emulator: a refusal, or `None` to go on.
///
/// The admin API changes what every page of the emulator's origin serves, so: the `Host` must be a loopback name
/// (a page on a rebinding domain that resolves to 127.0.0.1 sends its own name) unless the admin token is given;
/// a web page may call it only from the emulator's own origin or an allowed one; bodies must be JSON (a
/// `text/plain` POST needs no CORS preflight, so any page could send one).
fn refusal(config: &crate::Config, call: &Call<'_>) -> Option<Reply> {
    let header = |name: header::HeaderName| call.headers.get(name).and_then(|v| v.to_str().ok());
    let forbidden = |why: &str| Some(Reply::from(json_response(StatusCode::FORBIDDEN, &json!({ "message": why }))));
    // In-process callers (tests) send no Host; every HTTP/1.1 client does.
    let host = header(header::HOST);
    let token_ok = config.admin_token.as_deref().is_some_and(|t| {
        header(header::AUTHORIZATION).and_then(|a| a.strip_prefix("Bearer ")).is_some_and(|given| given == t)
    });
    if config.admin_token.is_some() && !token_ok {
        return forbidden("the admin API needs `Authorization: Bearer <admin token>` (printed at start)");
    }
    if !token_ok && host.is_some_and(|h| !is_loopback_host(h)) {
        return forbidden("the admin API answers only at a loopback address (127.0.0.1, localhost, [::1])");
    }
    if let Some(origin) = header(header::ORIGIN)
        && host.is_none_or(|h| origin != format!("http://{h}"))
        && !config.admin_origins.iter().any(|o| o == origin)
    {
        return forbidden("web pages of other origins may not drive the emulator (see admin_origins)");
    }
    let has_body = matches!(call.method.as_str(), "POST" | "PATCH") && !call.body.is_empty();
    let json = header(header::CONTENT_TYPE).is_some_and(|c| c.trim_start().starts_with("application/json"));
    if has_body && !json {
        let message = json!({ "message": "send the admin API's bodies as Content-Type: application/json" });
        return Some(Reply::from(json_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, &message)));
    }
    None
}

/// Answers `/__emulator/...` requests; `None` for every other path.
pub(crate) fn handle(inner: &mut Inner, call: &Call<'_>) -> Option<Reply> {
    let rest = call.path.strip_prefix("/__emulator/")?;
    if let Some(refused) = refusal(&inner.config, call) {
        return Some(refused);
    }
    let body = || serde_json::from_slice::<Value>(call.body).map_err(|e| format!("body is not JSON: {e}"));
    Some(match (call.method.as_str(), rest) {
        ("POST", "faults") if inner.faults.len() >= MAX_FAULTS => {
            bad("at most 1000 fault rules: DELETE /__emulator/faults first")
        }
        ("POST", "faults") => match body().and_then(new_fault) {
            Ok(f) => {
                inner.faults.push(f);
                empty(StatusCode::CREATED)
            }
            Err(e) => bad(e),
        },
        ("DELETE", "faults") => {
            inner.faults.clear();
            empty(StatusCode::NO_CONTENT)
        }
        ("GET", "faults") => Reply::from(json_response(StatusCode::OK, &inner.faults)),
        ("GET", "requests") => Reply::from(json_response(StatusCode::OK, &inner.log)),
        ("GET", "stats") => Reply::from(json_response(StatusCode::OK, &inner.stats())),
        ("DELETE", "requests") => {
            inner.log.clear();
            empty(StatusCode::NO_CONTENT)
        }
        ("POST", "clock") => match body().map(|v| v.get("advance_ms").and_then(Value::as_u64)) {
            Ok(Some(ms)) if ms > MAX_CLOCK_ADVANCE_MS => bad("advance_ms is limited to ten years (315360000000)"),
            Ok(Some(ms)) => {
                inner.clock_offset_ms = inner.clock_offset_ms.saturating_add(ms);
                Reply::from(json_response(StatusCode::OK, &json!({"offset_ms": inner.clock_offset_ms})))
            }
            Ok(None) => bad("expected {\"advance_ms\": <non-negative integer>}"),
            Err(e) => bad(e),
        },
        ("PATCH", "config") => match body().and_then(|patch| patched(&inner.config, patch)) {
            Ok(config) => {
                inner.config = config;
                empty(StatusCode::NO_CONTENT)
            }
            Err(e) => bad(e),
        },
        ("POST", "reset") => {
            inner.reset();
            empty(StatusCode::NO_CONTENT)
        }
        _ => Reply::from(json_response(StatusCode::NOT_FOUND, &json!({"message": "unknown admin route"}))),
    })
}

/// `config` with a JSON merge patch (RFC 7396) applied and validated.
fn patched(config: &Config, patch: Value) -> Result<Config, String> {
    fn merge(target: &mut Value, patch: Value) {
        match (target, patch) {
            (Value::Object(t), Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
            (t, p) => *t = p,
        }
    }
    let mut value = serde_json::to_value(config).map_err(|e| e.to_string())?;
    merge(&mut value, patch);
    let config: Config = serde_json::from_value(value).map_err(|e| e.to_string())?;
    config.validate()?;
    Ok(config)
}
