//! PKCE (RFC 7636): the code verifier, its S256 challenge, and the randomness they come from.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::Error;

/// A source of cryptographically secure random bytes, passed in so the core reads no global state.
pub trait Rng {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// [`Error::Random`] when the source fails; no login may start then.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's CSPRNG (`getrandom`; `crypto.getRandomValues` on wasm32 in a browser).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::Random)
    }
}

/// `n` random bytes encoded as unpadded base64url.
pub(crate) fn random_token(rng: &mut dyn Rng, n: usize) -> Result<String, Error> {
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes)?;
    let out = base64url(&bytes);
    bytes.zeroize();
    Ok(out)
}

/// Unpadded base64url (RFC 4648 §5). Hand-written: eight lines cost less in the browser bundle than a crate.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A PKCE code verifier: 43..=128 characters of `[A-Za-z0-9-._~]`.
///
/// # Security
/// Not `Clone`, redacted in `Debug`, zeroized on drop. It leaves the app only in the token request.
pub struct Verifier(String);

impl Verifier {
    /// Bytes of entropy in a generated verifier: 96 bytes give the 128-character maximum, as the JS SDK uses.
    const RANDOM_BYTES: usize = 96;

    /// A fresh verifier from `rng`.
    ///
    /// # Errors
    /// [`Error::Random`] when the random source fails.
    pub fn generate(rng: &mut dyn Rng) -> Result<Self, Error> {
        random_token(rng, Self::RANDOM_BYTES).map(Verifier)
    }

    /// Validates a verifier given as text (e.g. read back from storage).
    ///
    /// # Errors
    /// [`Error::InvalidVerifier`] when the length or alphabet is outside RFC 7636.
    ///
    /// ```
    /// use genesys_auth::Verifier;
    /// let v = Verifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    /// assert_eq!(v.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // RFC 7636 appendix B
    /// assert!(Verifier::new("too-short").is_err());
    /// ```
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let mut value = value.into();
        let reason = if value.len() < 43 {
            Some("shorter than 43 characters")
        } else if value.len() > 128 {
            Some("longer than 128 characters")
        } else if !value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
            Some("contains a character outside the unreserved alphabet")
        } else {
            None
        };
        match reason {
            Some(reason) => {
                value.zeroize();
                Err(Error::InvalidVerifier { reason })
            }
            None => Ok(Verifier(value)),
        }
    }

    /// The verifier text, for the token request only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The S256 challenge of this verifier.
    pub fn challenge(&self) -> Challenge {
        Challenge::s256(self)
    }
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Verifier([redacted])")
    }
}

impl PartialEq for Verifier {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A PKCE code challenge (`BASE64URL(SHA256(verifier))`); public by design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    /// The S256 challenge of `verifier`.
    pub fn s256(verifier: &Verifier) -> Self {
        Challenge(base64url(&Sha256::digest(verifier.0.as_bytes())))
    }

    /// The challenge text, as sent in `code_challenge`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method, always `S256`: this library never sends `plain`.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let v = Verifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").ok();
        let c = v.as_ref().map(|v| v.challenge().as_str().to_string());
        assert_eq!(c.as_deref(), Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (&[0xfb, 0xff, 0xfe], "-__-"),
        ];
        for (input, want) in cases {
            assert_eq!(base64url(input), want);
        }
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = Verifier::generate(&mut OsRng).ok();
        let b = Verifier::generate(&mut OsRng).ok();
        let (Some(a), Some(b)) = (a, b) else { panic!("rng failed") };
        assert_eq!(a.secret().len(), 128);
        assert!(Verifier::new(a.secret()).is_ok());
        assert!(a != b);
        let again = Verifier::new(a.secret()).ok();
        assert!(again.as_ref() == Some(&a), "equal verifiers compare equal");
        assert_eq!(a.challenge().method(), "S256");
        assert_eq!(a.challenge(), Challenge::s256(&a));
    }

    #[test]
    fn debug_is_redacted() {
        let v = Verifier::new("a".repeat(43)).ok();
        assert_eq!(format!("{v:?}"), "Some(Verifier([redacted]))");
    }
}
