//! The HTML pages a person sees: the login page (pick or type a test user, Approve / Deny), error pages,
//! signed out, and the home page.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::config::{ClientConfig, Config};

pub(crate) fn html(status: StatusCode, body: &str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body.to_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The login page must not be framed by other sites (clickjacking), like the real one.
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    r
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, content: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>{title} · Genesys Cloud emulator</title><style>
body{{margin:0;font:15px/1.45 system-ui,sans-serif;background:#f2f4f7;color:#1d2433}}
main{{max-width:440px;margin:48px auto;background:#fff;border-radius:10px;box-shadow:0 2px 12px #0002;padding:28px 32px}}
h1{{font-size:21px;margin:0 0 4px}} .sub{{color:#5b6578;margin:0 0 20px}} .badge{{display:inline-block;background:#ff4f1f;color:#fff;border-radius:4px;padding:1px 7px;font-size:12px;font-weight:600}}
label.user{{display:flex;gap:10px;align-items:center;border:1px solid #d5dae3;border-radius:8px;padding:9px 12px;margin:8px 0;cursor:pointer}}
label.user:hover{{border-color:#2a60c8}} .email{{color:#5b6578;font-size:13px}}
input[type=text]{{width:100%;box-sizing:border-box;padding:9px;border:1px solid #d5dae3;border-radius:8px;font:inherit}}
.buttons{{display:flex;gap:10px;margin-top:20px}} button{{flex:1;padding:10px;border-radius:8px;border:1px solid #2a60c8;font:inherit;font-weight:600;cursor:pointer}}
button.approve{{background:#2a60c8;color:#fff}} button.deny{{background:#fff;color:#2a60c8}}
.sso{{background:#eef4ff;border:1px solid #c4d4f5;border-radius:8px;padding:10px 12px}}
.error{{background:#fdecea;border:1px solid #f5c2bd;color:#8a1c12;border-radius:8px;padding:10px 12px}} code{{background:#eef1f6;padding:1px 4px;border-radius:4px}}
</style></head><body><main><p><span class="badge">EMULATOR</span></p>{content}</main></body></html>"#
    )
}

/// The login page; `csrf` goes in a hidden field and must come back with the decision.
pub(crate) fn login(config: &Config, query: &str, client: &ClientConfig, hint: Option<&str>, csrf: &str) -> String {
    login_form(config, query, client, hint, None, csrf)
}

pub(crate) fn login_with_error(
    config: &Config,
    query: &str,
    client: &ClientConfig,
    typed: &str,
    error: &str,
    csrf: &str,
) -> String {
    login_form(config, query, client, Some(typed), Some(error), csrf)
}

fn login_form(
    config: &Config,
    query: &str,
    client: &ClientConfig,
    hint: Option<&str>,
    error: Option<&str>,
    csrf: &str,
) -> String {
    let hinted = hint.and_then(|h| config.user(h)).map(|u| u.id.as_str());
    let mut users = String::new();
    for (i, u) in config.users.iter().enumerate() {
        let checked = if hinted.map_or(i == 0, |id| id == u.id) { " checked" } else { "" };
        users.push_str(&format!(
            r#"<label class="user"><input type="radio" name="user" value="{email}"{checked}><span><b>{name}</b><br><span class="email">{email} · {title}</span></span></label>"#,
            email = escape(&u.email),
            name = escape(&u.name),
            title = escape(&u.title),
        ));
    }
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))).unwrap_or_default();
    let typed = hint.filter(|_| hinted.is_none()).map(escape).unwrap_or_default();
    // Genesys Cloud sends a login with `org` and `provider` straight to that org's SSO identity provider; the
    // emulator stands in for it and says so.
    let pairs = crate::form(query.as_bytes()).unwrap_or_default();
    let sso = match (crate::param(&pairs, "org"), crate::param(&pairs, "provider")) {
        (Some(org), Some(provider)) => format!(
            r#"<p class="sso" id="sso">Single sign-on for org <b id="sso-org">{}</b> through <b id="sso-provider">{}</b>: the emulator stands in for that identity provider.</p>"#,
            escape(org),
            escape(provider)
        ),
        _ => String::new(),
    };
    layout(
        "Sign in",
        &format!(
            r#"<h1>Sign in to {org}</h1><p class="sub"><b>{app}</b> wants to access Genesys Cloud as you.</p>{sso}{error}
<form method="post" action="/oauth/authorize"><input type="hidden" name="authorize_query" value="{query}">
<input type="hidden" name="csrf" value="{csrf}">
<fieldset style="border:0;padding:0;margin:0"><legend>Choose a test user</legend>{users}</fieldset>
<p><label>…or type a user's email<br><input type="text" name="user_typed" value="{typed}" autocomplete="off"></label></p>
<div class="buttons"><button class="approve" name="decision" value="approve" id="approve">Approve</button>
<button class="deny" name="decision" value="deny" id="deny">Deny</button></div></form>"#,
            org = escape(&config.org.name),
            app = escape(if client.name.is_empty() { &client.id } else { &client.name }),
            query = escape(query),
            csrf = escape(csrf),
        ),
    )
}

pub(crate) fn error_page(status: StatusCode, message: &str) -> Response<Bytes> {
    html(
        status,
        &layout(
            "Error",
            &format!(
                r#"<h1>This sign-in request cannot be completed</h1><p class="error" role="alert">{}</p><p>The app that sent you here is misconfigured: its OAuth client id or redirect URI does not match a client registered in this org. Nothing was sent back to it.</p>"#,
                escape(message)
            ),
        ),
    )
}

pub(crate) fn signed_out() -> String {
    layout("Signed out", "<h1>You are signed out</h1><p class=\"sub\">You can close this window.</p>")
}

pub(crate) fn home(config: &Config) -> String {
    let mut clients = String::new();
    for c in &config.clients {
        clients.push_str(&format!(
            "<li><code>{}</code> ({}) — redirect URIs: {}</li>",
            escape(&c.id),
            escape(&c.kind),
            c.redirect_uris.iter().map(|r| format!("<code>{}</code>", escape(r))).collect::<Vec<_>>().join(", ")
        ));
    }
    layout(
        "Home",
        &format!(
            "<h1>Genesys Cloud emulator</h1><p class=\"sub\">Login host and API host for <b>{}</b>.</p><p>Clients:</p><ul>{clients}</ul>",
            escape(&config.org.name)
        ),
    )
}
