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
