//! Reading the redirect back from the login host.

use crate::Error;
use crate::error::OAuthErrorCode;
use crate::secret::{AuthorizationCode, State};

/// What the login host sent back to the redirect URI.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Callback {
    /// Success: a one-time code.
    Code {
        /// The authorization code.
        code: AuthorizationCode,
        /// The `state` sent back.
        state: State,
    },
    /// The authorization server refused (`?error=...`).
    Error {
        /// The OAuth error code.
        code: OAuthErrorCode,
        /// `error_description`, truncated to 300 characters.
        description: Option<String>,
        /// The `state` sent back (required: RFC 6749 §4.1.2.1).
        state: State,
    },
}

/// The OAuth parameters of a callback (RFC 6749 §4.1.2, RFC 9207's `iss`).
pub(crate) const PARAMS: [&str; 6] = ["code", "state", "error", "error_description", "error_uri", "iss"];

/// Longest `code` accepted (Genesys codes are < 100 characters; a megabyte is an attack on the token endpoint).
const MAX_CODE: usize = 2048;
/// Longest `state` accepted (ours are 43 characters).
const MAX_STATE: usize = 512;

impl Callback {
    /// Parses the query of a callback URL (a full URL, or just `?query`).
    ///
    /// Parameters other than the OAuth ones are ignored (apps keep their own); OAuth ones may occur once.
    ///
    /// # Errors
    /// [`Error::NotACallback`] without `code` and `error`; [`Error::DuplicateParameter`];
    /// [`Error::MissingParameter`] for a code or an error without state; [`Error::InvalidParameter`] for a code
    /// or state of absurd length. Server text (`error_description`) has its control characters removed.
    ///
    /// ```
    /// use genesys_auth::{Callback, Error};
    /// let cb = Callback::parse("http://localhost:3000/?code=abc&state=xyz").unwrap();
    /// assert_eq!(cb.state().map(|s| s.secret()), Some("xyz"));
    /// assert_eq!(Callback::parse("/?code=a&state=s&state=t").err(), Some(Error::DuplicateParameter { name: "state" }));
    /// ```
    pub fn parse(url: &str) -> Result<Callback, Error> {
        Self::parse_with_issuer(url).map(|(callback, _)| callback)
    }

    /// [`Callback::parse`], and the `iss` parameter (RFC 9207) if the callback carries one.
    pub(crate) fn parse_with_issuer(url: &str) -> Result<(Callback, Option<String>), Error> {
        let without_fragment = url.split('#').next().unwrap_or("");
        let query = without_fragment.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs = unique_pairs(query, &PARAMS)?;
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
        let code = get("code");
        let error = get("error");
        if code.is_none() && error.is_none() {
            return Err(Error::NotACallback);
        }
        let too_long = |name: &'static str| Error::InvalidParameter { name, reason: "far longer than any real value" };
        if code.as_ref().is_some_and(|c| c.len() > MAX_CODE) {
            return Err(too_long("code"));
        }
        let state = get("state").filter(|s| !s.is_empty()).ok_or(Error::MissingParameter { name: "state" })?;
        if state.len() > MAX_STATE {
            return Err(too_long("state"));
        }
        let state = State::new(state.as_str());
        let description = get("error_description").map(|d| crate::error::clean(&d, 300));
        let callback = match (error, code) {
            (Some(error), _) => Callback::Error { code: OAuthErrorCode::parse(&error), description, state },
            (None, Some(code)) if !code.is_empty() => {
                Callback::Code { code: AuthorizationCode::new(code.as_str()), state }
            }
            (None, _) => return Err(Error::MissingParameter { name: "code" }),
        };
        Ok((callback, get("iss").map(|i| i.to_string())))
    }

    /// True when `url`'s query carries `code` or `error` (a cheap check before [`Callback::parse`]).
    pub fn is_callback(url: &str) -> bool {
        let query = url.split('#').next().unwrap_or("").split_once('?').map(|(_, q)| q).unwrap_or("");
        crate::form::parse(query).any(|(k, _)| k == "code" || k == "error")
    }

    /// The `state` sent back.
    pub fn state(&self) -> Option<&State> {
        match self {
            Callback::Code { state, .. } | Callback::Error { state, .. } => Some(state),
        }
    }
}

/// `href` without the OAuth parameters (`code`, `state`, `error`, `iss`, ...) in its query or its fragment,
/// keeping the app's own: what the address bar shows after a callback.
///
/// ```
/// use genesys_auth::without_callback;
/// assert_eq!(without_callback("http://a/p?x=1&code=c&state=s&iss=i#code=c&tab=2"), "http://a/p?x=1#tab=2");
/// ```
pub fn without_callback(href: &str) -> String {
    let keep = |part: &str| {
        let mut kept = crate::form::Form::new();
        for (k, v) in crate::form::parse(part) {
            if !PARAMS.contains(&k.as_str()) {
                kept.append_pair(&k, &v);
            }
        }
        kept.finish()
    };
    let (before_hash, hash) = href.split_once('#').map_or((href, None), |(a, b)| (a, Some(b)));
    let (base, query) = before_hash.split_once('?').unwrap_or((before_hash, ""));
    let query = keep(query);
    let mut url = base.to_string();
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    if let Some(h) = hash {
        // A fragment is not a callback (we use the query), but one that carries `code`/`state` is cleaned too.
        let h = if crate::form::parse(h).any(|(k, _)| PARAMS.contains(&k.as_str())) { keep(h) } else { h.to_string() };
        if !h.is_empty() {
            url.push('#');
            url.push_str(&h);
        }
    }
    url
}

/// Where a sign-in started on the page `href` comes back to: its path, query and fragment, if that is a safe
/// same-origin return path (see [`safe_return_path`](crate::safe_return_path)).
///
/// ```
/// use genesys_auth::return_path;
/// assert_eq!(return_path("http://localhost:3000/inbox?tab=2#x").as_deref(), Some("/inbox?tab=2#x"));
/// assert_eq!(return_path("http://localhost:3000").as_deref(), Some("/"));
/// assert_eq!(return_path("http://localhost:3000/..//evil.example"), None);
/// ```
pub fn return_path(href: &str) -> Option<String> {
    path_of(href).and_then(|p| crate::safe_return_path(&p))
}

/// The path, query and fragment of an absolute URL (`https://host/p?q#f` → `/p?q#f`).
fn path_of(href: &str) -> Option<String> {
    let after_scheme = href.split_once(':')?.1.strip_prefix("//")?;
    let path =
        after_scheme.bytes().position(|b| b == b'/' || b == b'?' || b == b'#').map_or("/", |i| &after_scheme[i..]);
    Some(if path.starts_with('/') { path.to_string() } else { crate::concat(&["/", path]) })
}

/// The pairs of a form-encoded string whose names are in `known`, refusing any known name given twice.
/// The values may be secrets (a code, a state, a token read from storage): each is wiped when dropped, and so is
/// every value that is not kept.
pub(crate) fn unique_pairs(
    query: &str,
    known: &[&'static str],
) -> Result<Vec<(&'static str, zeroize::Zeroizing<String>)>, Error> {
    let mut out: Vec<(&'static str, zeroize::Zeroizing<String>)> = Vec::new();
    for (k, v) in crate::form::parse(query) {
        let v = zeroize::Zeroizing::new(v);
        if let Some(name) = known.iter().find(|n| **n == k) {
            if out.iter().any(|(seen, _)| seen == name) {
                return Err(Error::DuplicateParameter { name });
            }
            out.push((name, v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_state_are_read() {
        let cb = Callback::parse("http://localhost:3000/cb?code=c%2B1&state=s1&app=x#frag");
        let Ok(Callback::Code { code, state }) = cb else { panic!("{cb:?}") };
        assert_eq!(code.secret(), "c+1");
        assert_eq!(state.secret(), "s1");
    }

    #[test]
    fn duplicated_or_missing_parameters_are_refused() {
        assert_eq!(
            Callback::parse("/?code=a&state=s&state=t").err(),
            Some(Error::DuplicateParameter { name: "state" })
        );
        assert_eq!(Callback::parse("/?code=a&code=b&state=s").err(), Some(Error::DuplicateParameter { name: "code" }));
        assert_eq!(Callback::parse("/?code=a").err(), Some(Error::MissingParameter { name: "state" }));
        assert_eq!(Callback::parse("/?state=a").err(), Some(Error::NotACallback));
        assert_eq!(Callback::parse("/").err(), Some(Error::NotACallback));
    }

    #[test]
    fn an_error_callback_needs_its_state_and_server_text_loses_control_characters() {
        assert_eq!(
            Callback::parse("/?error=access_denied&error_description=click+evil.example").err(),
            Some(Error::MissingParameter { name: "state" })
        );
        let cb = Callback::parse("/?error=x&error_description=a%1B%5B31mb%0Ac&state=s");
        let Ok(Callback::Error { description, .. }) = cb else { panic!("{cb:?}") };
        assert_eq!(description.as_deref(), Some("a[31mbc"));
    }

    #[test]
    fn absurdly_long_parameters_are_refused_before_anything_is_sent() {
        let huge = format!("/?code={}&state=s", "c".repeat(1 << 20));
        assert_eq!(Callback::parse(&huge).err().map(|e| e.code()), Some("invalid_callback"));
        let long_state = format!("/?code=c&state={}", "s".repeat(600));
        assert_eq!(Callback::parse(&long_state).err().map(|e| e.code()), Some("invalid_callback"));
    }

    #[test]
    fn the_address_bar_loses_code_state_and_iss_in_query_and_fragment() {
        assert_eq!(without_callback("http://a/?code=c&state=s&iss=i&tab=1"), "http://a/?tab=1");
        assert_eq!(without_callback("http://a/#code=c&state=s"), "http://a/");
        assert_eq!(without_callback("http://a/p#/route"), "http://a/p#/route");
    }

    #[test]
    fn genesys_error_codes_are_typed() {
        let cb = Callback::parse("/?error=invalid_pkce_package&error_description=bad+pkce&state=s");
        let Ok(Callback::Error { code, description, .. }) = cb else { panic!("{cb:?}") };
        assert_eq!(code, OAuthErrorCode::InvalidPkcePackage);
        assert_eq!(description.as_deref(), Some("bad pkce"));
    }

    #[test]
    fn size_caps_are_inclusive_and_an_empty_code_is_missing() {
        let url = |code: usize, state: usize| format!("/?code={}&state={}", "c".repeat(code), "s".repeat(state));
        assert!(Callback::parse(&url(MAX_CODE, MAX_STATE)).is_ok());
        assert_eq!(Callback::parse(&url(MAX_CODE + 1, 1)).err().map(|e| e.code()), Some("invalid_callback"));
        assert_eq!(Callback::parse(&url(1, MAX_STATE + 1)).err().map(|e| e.code()), Some("invalid_callback"));
        assert_eq!(Callback::parse("/?code=&state=s").err(), Some(Error::MissingParameter { name: "code" }));
    }

    #[test]
    fn the_path_of_a_url_without_one_is_the_root() {
        assert_eq!(return_path("http://localhost:3000?tab=2").as_deref(), Some("/?tab=2"));
        assert_eq!(return_path("http://localhost:3000#x").as_deref(), Some("/#x"));
        assert_eq!(return_path("http://localhost:3000/a?b#c").as_deref(), Some("/a?b#c"));
        assert_eq!(return_path("localhost:3000/a"), None);
    }
}
