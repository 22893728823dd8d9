//! The API host: `/api/v2/users/me`, `/api/v2/tokens/me`, `/api/v2/organizations/me`, with Genesys' error
//! bodies, per-token rate limits and the org idle timeout.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::config::{Config, User};
use crate::store::RateWindow;
use crate::{Call, Ctx, form, json_response, param};

/// A Genesys API error body.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response<Bytes> {
    json_response(
        status,
        &json!({
            "message": message,
            "code": code,
            "status": status.as_u16(),
            "contextId": "00000000-0000-4000-8000-000000000000",
            "details": [],
            "errors": [],
        }),
    )
}

pub(crate) fn handle(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Response<Bytes> {
    let token = match authenticate(ctx, call) {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Rate limit: a fixed one-minute window per token, as `token.rate.per.minute`.
    let allowed = ctx.config.rate_limit_per_minute;
    let window = ctx.store.rate.entry(token.clone()).or_insert(RateWindow { started_ms: call.now_ms, count: 0 });
    if call.now_ms.saturating_sub(window.started_ms) >= 60_000 {
        *window = RateWindow { started_ms: call.now_ms, count: 0 };
    }
    window.count = window.count.saturating_add(1);
    let reset_s = (60_000 - call.now_ms.saturating_sub(window.started_ms)).div_ceil(1000);
    let count = window.count;
    let mut r = if count > allowed {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too.many.requests",
            &format!("Rate limit exceeded the maximum. Retry the request in [{reset_s}] seconds"),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(reset_s));
        r
    } else {
        endpoint(ctx, call, &token)
    };
    let h = r.headers_mut();
    h.insert("inin-ratelimit-count", HeaderValue::from(count.min(allowed)));
    h.insert("inin-ratelimit-allowed", HeaderValue::from(allowed));
    h.insert("inin-ratelimit-reset", HeaderValue::from(reset_s));
    r
}

/// The Bearer token, if it is valid now; marks it used (idle timeout).
fn authenticate(ctx: &mut Ctx<'_>, call: &Call<'_>) -> Result<String, Response<Bytes>> {
    let header = call.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        ));
    };
    let idle_ms = ctx.config.idle_timeout_s.saturating_mul(1000);
    let Some(access) = ctx.store.access.get_mut(token) else {
        return Err(error(StatusCode::UNAUTHORIZED, "bad.credentials", "Invalid login credentials."));
    };
    if access.revoked {
        return Err(error(StatusCode::UNAUTHORIZED, "bad.credentials", "Invalid login credentials."));
    }
    if access.expires_at_ms <= call.now_ms {
        return Err(error(StatusCode::UNAUTHORIZED, "credentials.expired", "The token has expired."));
    }
    if idle_ms > 0 && call.now_ms.saturating_sub(access.last_used_ms) > idle_ms {
        let family = access.family;
        ctx.store.revoke_family(family);
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "credentials.expired",
            "The token was revoked after the org's idle timeout.",
        ));
    }
    access.last_used_ms = call.now_ms;
    Ok(token.to_string())
}

fn endpoint(ctx: &mut Ctx<'_>, call: &Call<'_>, token: &str) -> Response<Bytes> {
    let Some(access) = ctx.store.access.get(token) else {
        return error(StatusCode::UNAUTHORIZED, "bad.credentials", "Invalid login credentials.");
    };
    let (family, expires_at_ms, issued_at_ms) = (access.family, access.expires_at_ms, access.issued_at_ms);
    let Some(f) = ctx.store.families.get(&family) else {
        return error(StatusCode::UNAUTHORIZED, "bad.credentials", "Invalid login credentials.");
    };
    let (user_id, client_id) = (f.user_id.clone(), f.client_id.clone());
    let Some(user) = ctx.config.users.iter().find(|u| u.id == user_id) else {
        return error(StatusCode::UNAUTHORIZED, "bad.credentials", "Invalid login credentials.");
    };
    match (call.method, call.path) {
        (&Method::GET, "/api/v2/users/me") => {
            let pairs = form(call.query.as_bytes()).unwrap_or_default();
            let expand = param(&pairs, "expand").unwrap_or("");
            json_response(StatusCode::OK, &user_body(ctx.config, user, expand, issued_at_ms))
        }
        (&Method::GET | &Method::HEAD, "/api/v2/tokens/me") => {
            let client = ctx.config.client(&client_id);
            let body = json!({
                "organization": {"id": ctx.config.org.id, "name": ctx.config.org.name},
                "homeOrganization": {"id": ctx.config.org.id, "name": ctx.config.org.name},
                "authorizedScope": [],
                "clonedUser": null,
                "OAuthClient": {"id": client_id, "name": client.map(|c| c.name.clone()).unwrap_or_default()},
                "expirationDate": iso8601(expires_at_ms),
                "dateCreated": iso8601(issued_at_ms),
            });
            let mut r = json_response(StatusCode::OK, &body);
            if call.method == Method::HEAD {
                *r.body_mut() = Bytes::new();
            }
            r
        }
        (&Method::DELETE, "/api/v2/tokens/me") => {
            // Logout: the calling token and its whole family (refresh tokens included) stop working.
            ctx.store.revoke_family(family);
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        }
        (&Method::GET, "/api/v2/organizations/me") => json_response(StatusCode::OK, &org_body(ctx.config)),
        _ => error(StatusCode::NOT_FOUND, "not.found", "The requested resource was not found."),
    }
}

fn org_body(config: &Config) -> Value {
    json!({
        "id": config.org.id,
        "name": config.org.name,
        "defaultLanguage": "en-us",
        "defaultCountryCode": "US",
        "thirdPartyOrgName": config.org.name.to_lowercase().replace(' ', "-"),
        "domain": "emulator.local",
        "version": 1,
        "state": "active",
        "defaultSiteId": "00000000-0000-4000-8000-0000000051e0",
        "deletable": false,
        "selfUri": format!("/api/v2/organizations/{}", config.org.id),
    })
}

fn user_body(config: &Config, u: &User, expand: &str, login_ms: u64) -> Value {
    let mut body = json!({
        "id": u.id,
        "name": u.name,
        "division": {"id": "d1f5a3c0-0000-4000-8000-00000000d1f5", "name": "Home", "selfUri": "/api/v2/authorization/divisions/d1f5a3c0-0000-4000-8000-00000000d1f5"},
        "chat": {"jabberId": format!("{}@emulator.orgspan.com", u.id)},
        "department": u.department,
        "email": u.email,
        "primaryContactInfo": [{"address": u.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "addresses": [],
        "state": "active",
        "title": u.title,
        "username": u.email,
        "version": 1,
        "acdAutoAnswer": false,
        "selfUri": format!("/api/v2/users/{}", u.id),
    });
    for part in expand.split(',').map(str::trim) {
        let value = match part {
            "presence" => json!({
                "source": "PURECLOUD",
                "presenceDefinition": {"id": "6a3af858-942f-489d-9700-5f9bcdcdae9b", "systemPresence": u.presence},
                "modifiedDate": iso8601(login_ms),
            }),
            "routingStatus" => {
                json!({"userId": u.id, "status": u.routing_status, "startTime": iso8601(login_ms)})
            }
            "organization" => org_body(config),
            "station" => {
                json!({"associatedStation": null, "effectiveStation": null, "defaultStation": null, "lastAssociatedStation": null})
            }
            "authorization" => {
                json!({"roles": [{"id": "e5b0e7c4-0000-4000-8000-0000000000a1", "name": "employee"}], "permissions": ["directory:user:view"], "permissionPolicies": []})
            }
            "dateLastLogin" => json!(iso8601(login_ms)),
            _ => continue,
        };
        body[part] = value;
    }
    body
}

/// Epoch milliseconds as `YYYY-MM-DDThh:mm:ss.sssZ` (RFC 3339, as Genesys writes dates), held within year 9999.
fn iso8601(ms: u64) -> String {
    const LAST_MS: u64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.min(LAST_MS));
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(super::iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(super::iso8601(u64::MAX), "9999-12-31T23:59:59.999Z");
    }
}
