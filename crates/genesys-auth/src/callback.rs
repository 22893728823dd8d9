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
        /// The `state` sent back, when there is one.
        state: Option<State>,
    },
}

const PARAMS: [&str; 5] = ["code", "state", "error", "error_description", "error_uri"];

impl Callback {
    /// Parses the query of a callback URL (a full URL, or just `?query`).
    ///
    /// Parameters other than the OAuth ones are ignored (apps keep their own); OAuth ones may occur once.
    ///
    /// # Errors
    /// [`Error::NotACallback`] without `code` and `error`; [`Error::DuplicateParameter`];
    /// [`Error::MissingParameter`] for a code without state.
    ///
    /// ```
    /// use genesys_auth::{Callback, Error};
    /// let cb = Callback::parse("http://localhost:3000/?code=abc&state=xyz").unwrap();
    /// assert_eq!(cb.state().map(|s| s.secret()), Some("xyz"));
    /// assert_eq!(Callback::parse("/?code=a&state=s&state=t").err(), Some(Error::DuplicateParameter { name: "state" }));
    /// ```
    pub fn parse(url: &str) -> Result<Callback, Error> {
        let without_fragment = url.split('#').next().unwrap_or("");
        let query = without_fragment.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs = unique_pairs(query, &PARAMS)?;
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
        let code = get("code");
        let state = get("state").filter(|s| !s.is_empty()).map(State::new);
        let error = get("error");
        let description = get("error_description").map(|d| d.chars().take(300).collect());
        match (error, code) {
            (Some(error), _) => Ok(Callback::Error { code: OAuthErrorCode::parse(&error), description, state }),
            (None, Some(code)) if !code.is_empty() => Ok(Callback::Code {
                code: AuthorizationCode::new(code),
                state: state.ok_or(Error::MissingParameter { name: "state" })?,
            }),
            (None, Some(_)) => Err(Error::MissingParameter { name: "code" }),
            (None, None) => Err(Error::NotACallback),
        }
    }

    /// True when `url`'s query carries `code` or `error` (a cheap check before [`Callback::parse`]).
    pub fn is_callback(url: &str) -> bool {
        let query = url.split('#').next().unwrap_or("").split_once('?').map(|(_, q)| q).unwrap_or("");
        crate::form::parse(query).any(|(k, _)| k == "code" || k == "error")
    }

    /// The `state` sent back, if any.
    pub fn state(&self) -> Option<&State> {
        match self {
            Callback::Code { state, .. } => Some(state),
            Callback::Error { state, .. } => state.as_ref(),
        }
    }
}

/// The pairs of a form-encoded string whose names are in `known`, refusing any known name given twice.
pub(crate) fn unique_pairs(query: &str, known: &[&'static str]) -> Result<Vec<(&'static str, String)>, Error> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in crate::form::parse(query) {
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
    fn genesys_error_codes_are_typed() {
        let cb = Callback::parse("/?error=invalid_pkce_package&error_description=bad+pkce&state=s");
        let Ok(Callback::Error { code, description, .. }) = cb else { panic!("{cb:?}") };
        assert_eq!(code, OAuthErrorCode::InvalidPkcePackage);
        assert_eq!(description.as_deref(), Some("bad pkce"));
    }
}
