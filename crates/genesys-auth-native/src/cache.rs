//! The token cache: one file per (region, client id) in the user's cache directory, mode 0600, written
//! atomically, read as untrusted input, with a lock file so concurrent processes refresh once.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use genesys_auth::{Error, Region, TokenSet};

/// Where the tokens of one OAuth client in one region are kept.
#[derive(Clone, Debug)]
pub struct TokenCache {
    path: PathBuf,
}

/// A failure reading or writing the cache, with the path and what to do.
#[derive(Debug)]
pub enum CacheError {
    /// The file exists but is not a token cache we wrote (corrupt, foreign or from a future version).
    Unreadable(PathBuf),
    /// The file system refused.
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Unreadable(p) => {
                write!(
                    f,
                    "the token cache {} is unreadable (corrupt or foreign) and was ignored: run `genesys-auth login`",
                    p.display()
                )
            }
            CacheError::Io(p, e) => write!(f, "cannot use the token cache {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for CacheError {}

const HEADER: &str = "genesys-auth token cache v1\n";

impl TokenCache {
    /// The cache for `client_id` in `region`, under `dir` (default: the platform's cache directory, e.g.
    /// `~/.cache/genesys-auth` on Linux).
    pub fn new(dir: Option<&Path>, region: &Region, client_id: &str) -> Self {
        let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_dir);
        let host = region.login_base().replace("https://", "").replace("http://", "");
        let name: String = format!("{host}_{client_id}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' { c } else { '_' })
            .collect();
        TokenCache { path: dir.join(format!("{name}.tokens")) }
    }

    /// The cache file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached tokens; `Ok(None)` when there is no cache file.
    ///
    /// # Errors
    /// [`CacheError::Unreadable`] for anything we did not write; [`CacheError::Io`] when the file cannot be read.
    pub fn load(&self) -> Result<Option<TokenSet>, CacheError> {
        let text = match fs::read(&self.path) {
            Ok(bytes) if bytes.len() > 256 * 1024 => return Err(CacheError::Unreadable(self.path.clone())),
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::Io(self.path.clone(), e)),
        };
        let text = String::from_utf8(text).map_err(|_| CacheError::Unreadable(self.path.clone()))?;
        let body = text.strip_prefix(HEADER).ok_or_else(|| CacheError::Unreadable(self.path.clone()))?;
        TokenSet::from_storage(body.trim_end()).map(Some).map_err(|_| CacheError::Unreadable(self.path.clone()))
    }

    /// Writes `tokens` atomically (temporary file + rename) with mode 0600.
    ///
    /// # Errors
    /// [`CacheError::Io`].
    pub fn store(&self, tokens: &TokenSet) -> Result<(), CacheError> {
        let io = |e| CacheError::Io(self.path.clone(), e);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(io)?;
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = private_file(&tmp).map_err(io)?;
        file.write_all(HEADER.as_bytes()).map_err(io)?;
        file.write_all(tokens.to_storage().as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &self.path).map_err(io)
    }

    /// Removes the cache file (no error when it is absent).
    ///
    /// # Errors
    /// [`CacheError::Io`] when it exists and cannot be removed.
    pub fn remove(&self) -> Result<(), CacheError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CacheError::Io(self.path.clone(), e)),
            _ => Ok(()),
        }
    }

    /// An exclusive lock shared by every process using this cache (released when dropped).
    ///
    /// # Errors
    /// [`CacheError::Io`] when the lock file cannot be created or locked.
    pub fn lock(&self) -> Result<File, CacheError> {
        let io = |e| CacheError::Io(self.path.clone(), e);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(io)?;
        let file = private_file_keep(&self.path.with_extension("lock")).map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }
}

/// Converts a cache error to the core's taxonomy where a caller wants one error type.
impl From<CacheError> for Error {
    fn from(_: CacheError) -> Self {
        Error::CorruptStorage { what: "token cache" }
    }
}

fn default_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "genesys-auth")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("genesys-auth"))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

fn private_file(path: &Path) -> std::io::Result<File> {
    private_options().create(true).truncate(true).open(path)
}

fn private_file_keep(path: &Path) -> std::io::Result<File> {
    private_options().create(true).truncate(false).open(path)
}
