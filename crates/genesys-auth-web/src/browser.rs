//! Where the browser keeps tokens.

use genesys_auth::Error;

/// Where tokens are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// In memory only (default): gone on reload, invisible to other scripts' storage reads.
    Memory,
    /// `sessionStorage`: survives reloads of this tab.
    Session,
    /// `localStorage`: shared by all tabs of the origin (opt-in).
    Local,
}

impl StorageKind {
    /// Parses `memory`, `session` or `local`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for anything else.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "memory" => Ok(Self::Memory),
            "session" => Ok(Self::Session),
            "local" => Ok(Self::Local),
            _ => Err(Error::InvalidConfig {
                field: "storage",
                reason: "storage must be \"memory\" (default), \"session\" or \"local\"",
            }),
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/random.js")]
extern "C" {
    #[wasm_bindgen(js_name = fillRandom)]
    fn fill_random(dest: &mut [u8]) -> bool;
}

/// The browser's CSPRNG, `crypto.getRandomValues`, called directly (the `getrandom` crate's browser backend does the
/// same through more glue: it hands the exception to wasm as an object).
pub(crate) struct BrowserRng;

impl genesys_auth::Rng for BrowserRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        // One call fills at most 65 536 bytes; the engine asks for 32 at a time.
        for chunk in dest.chunks_mut(65_536) {
            if !fill_random(chunk) {
                return Err(Error::Random);
            }
        }
        Ok(())
    }
}
