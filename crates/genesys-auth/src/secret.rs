//! Secret newtypes: the values that must never reach a log line, a URL the user can copy, or `Debug` output.
//!
//! Every secret here has a redacted `Debug`, no `Display`, compares in constant time and is zeroized on drop.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            /// Wraps a value received from the network, storage or the user.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Every call site is a place where the secret leaves our care: keep them few.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }
    };
}

secret_type!(
    /// An OAuth access token (the Bearer credential for `api.<env>`).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token.
    RefreshToken
);
secret_type!(
    /// A one-time authorization code from the callback.
    AuthorizationCode
);
secret_type!(
    /// The anti-CSRF `state` value of one login attempt.
    State
);
secret_type!(
    /// Text the session machine asks a driver to keep in storage (tokens, a pending login with its verifier).
    StoredText
);

// Cloning tokens is needed by drivers that hand one copy to the app and keep one; the verifier and
// the code are deliberately not Clone: each exists once per login attempt.
impl Clone for AccessToken {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}
impl Clone for RefreshToken {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let token = AccessToken::new("eyJsecretvalue");
        let shown = format!("{token:?}");
        assert!(!shown.contains("eyJsecretvalue"), "{shown}");
        assert_eq!(shown, "AccessToken([redacted])");
    }

    #[test]
    fn equality_compares_the_whole_value() {
        assert_eq!(State::new("abc"), State::new("abc"));
        assert_ne!(State::new("abc"), State::new("abd"));
        assert_ne!(State::new("abc"), State::new("abcd"));
    }
}
