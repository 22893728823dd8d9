//! The token cache: one file per (region, client id) in the user's cache directory, mode 0600, written
//! atomically, read as untrusted input, with a lock file so concurrent processes refresh once.
//!
//! The file system is treated as hostile where it can be: the temporary file is created new (never opened
//! through a symlink an attacker planted), a directory the user named is never chmod-ed (a group- or
//! world-writable one is refused), and on load the file must be a regular file owned by this user with no
//! access for others.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use genesys_auth::{Client, Error, Region, TokenSet};

/// Where the tokens of one OAuth client in one region are kept.
#[derive(Clone, Debug)]
pub struct TokenCache {
    path: PathBuf,
    client: Option<Client>,
    /// No directory was given and the platform names none: every use says so.
    no_dir: bool,
}

/// How long [`TokenCache::lock`] waits for another process's lock before it gives up with a clear error.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A failure reading or writing the cache, with the path and what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum CacheError {
    /// The file exists but is not a token cache we wrote (corrupt, foreign or from a future version).
    Unreadable(PathBuf),
    /// The file or its directory can be read or changed by others, or is not ours.
    Unsafe(PathBuf, &'static str),
    /// The file system refused.
    Io(PathBuf, std::io::Error),
    /// No cache directory was given and the platform names none (no home directory, no `XDG_RUNTIME_DIR`).
    NoDirectory,
    /// Another process held the cache's lock for longer than [`LOCK_WAIT`].
    Locked(PathBuf),
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
            CacheError::Unsafe(p, why) => write!(
                f,
                "the token cache {} is not safe to use ({why}): choose a private directory with --cache-dir",
                p.display()
            ),
            CacheError::Io(p, e) => write!(f, "cannot use the token cache {}: {e}", p.display()),
            CacheError::NoDirectory => f.write_str(
                "no directory for the token cache: there is no home directory and no XDG_RUNTIME_DIR; set GENESYS_AUTH_CACHE_DIR (or --cache-dir, Options::cache_dir) to a private directory of yours",
            ),
            CacheError::Locked(p) => write!(
                f,
                "another process has held the lock {} for more than {} s: wait for it to finish, or end it",
                p.display(),
                LOCK_WAIT.as_secs()
            ),
        }
    }
}

impl std::error::Error for CacheError {}

const HEADER: &str = "genesys-auth token cache v2\n";
/// Largest cache file read.
const MAX_FILE: u64 = 256 * 1024;

impl TokenCache {
    /// The cache for `client_id` in `region`, under `dir` (default: the platform's cache directory, e.g.
    /// `~/.cache/genesys-auth` on Linux).
    pub fn new(dir: Option<&Path>, region: &Region, client_id: &str) -> Self {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        let no_dir = dir.is_none();
        let dir = dir.unwrap_or_default();
        let host = region.login_base().replace("https://", "").replace("http://", "");
        let name: String = format!("{host}_{client_id}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' { c } else { '_' })
            .collect();
        let client = Client::new(region.clone(), client_id, crate::REGISTERED_LOOPBACK).ok();
        TokenCache { path: dir.join(format!("{name}.tokens")), client, no_dir }
    }

    fn usable(&self) -> Result<(), CacheError> {
        if self.no_dir { Err(CacheError::NoDirectory) } else { Ok(()) }
    }

    /// The cache file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored text (as the session machine wrote it); `Ok(None)` when there is no cache file. What follows
    /// the header is returned as is, for the machine to validate; a file that is not ours returns text that the
    /// machine refuses.
    ///
    /// # Errors
    /// [`CacheError::Unsafe`] for a file that is not a regular file of this user's with mode 0600 (or stricter);
    /// [`CacheError::Io`] when it cannot be read.
    pub fn read_text(&self) -> Result<Option<String>, CacheError> {
        self.usable()?;
        let io = |e| CacheError::Io(self.path.clone(), e);
        // Opened first (never through a symlink, never blocking on a FIFO), then checked on the opened descriptor:
        // nothing can swap the file between the check and the read.
        let file = match read_options().open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                return Err(CacheError::Unsafe(self.path.clone(), "a symlink (it is not followed)"));
            }
            Err(e) => return Err(io(e)),
        };
        check_private_file(&self.path, &file.metadata().map_err(io)?)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_FILE {
            return Ok(Some(String::new()));
        }
        let text = String::from_utf8_lossy(&bytes);
        Ok(Some(text.strip_prefix(HEADER).map_or_else(String::new, |b| b.trim_end().to_string())))
    }

    /// Writes `text` atomically (a new temporary file, then rename) with mode 0600.
    ///
    /// # Errors
    /// [`CacheError::Unsafe`] for an unsafe directory, [`CacheError::Io`].
    pub fn write_text(&self, text: &str) -> Result<(), CacheError> {
        self.usable()?;
        let io = |e| CacheError::Io(self.path.clone(), e);
        self.private_dir()?;
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        // A leftover of a crashed run of this same process id is ours to replace; create_new never follows a link.
        let _ = fs::remove_file(&tmp);
        let mut file = private_options().create_new(true).open(&tmp).map_err(io)?;
        let written = file
            .write_all(HEADER.as_bytes())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .and_then(|()| fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// The cached tokens; `Ok(None)` when there is no cache file.
    ///
    /// # Errors
    /// [`CacheError::Unreadable`] for anything we did not write (or wrote for another region or client);
    /// [`CacheError::Unsafe`] and [`CacheError::Io`] as [`read_text`](Self::read_text).
    pub fn load(&self) -> Result<Option<TokenSet>, CacheError> {
        let Some(text) = self.read_text()? else { return Ok(None) };
        let client = self.client.as_ref().ok_or_else(|| CacheError::Unreadable(self.path.clone()))?;
        TokenSet::from_storage_for(&text, client).map(Some).map_err(|_| CacheError::Unreadable(self.path.clone()))
    }

    /// Writes `tokens` (bound to this cache's region and client) atomically with mode 0600.
    ///
    /// # Errors
    /// As [`write_text`](Self::write_text).
    pub fn store(&self, tokens: &TokenSet) -> Result<(), CacheError> {
        let client = self.client.as_ref().ok_or_else(|| CacheError::Unreadable(self.path.clone()))?;
        self.write_text(&tokens.to_storage_for(client))
    }

    /// Removes the cache file (no error when it is absent).
    ///
    /// # Errors
    /// [`CacheError::Io`] when it exists and cannot be removed.
    pub fn remove(&self) -> Result<(), CacheError> {
        self.usable()?;
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CacheError::Io(self.path.clone(), e)),
            _ => Ok(()),
        }
    }

    /// An exclusive lock shared by every process using this cache (released when dropped), waiting at most
    /// [`LOCK_WAIT`] for another process's.
    ///
    /// # Errors
    /// [`CacheError::Io`] when the lock file cannot be created or locked, [`CacheError::Locked`] after the wait.
    pub fn lock(&self) -> Result<File, CacheError> {
        self.lock_within(LOCK_WAIT)
    }

    /// [`TokenCache::lock`], waiting at most `wait`.
    ///
    /// # Errors
    /// As [`TokenCache::lock`].
    pub fn lock_within(&self, wait: std::time::Duration) -> Result<File, CacheError> {
        self.usable()?;
        let lock_path = self.path.with_extension("lock");
        let io = |e| CacheError::Io(lock_path.clone(), e);
        self.private_dir()?;
        let started = std::time::Instant::now();
        loop {
            let file = private_options().create(true).truncate(false).open(&lock_path).map_err(io)?;
            check_private_file(&lock_path, &file.metadata().map_err(io)?)?;
            match file.try_lock() {
                // Still the file at the path (a sign-out elsewhere may have removed it meanwhile): the lock is ours.
                Ok(()) if same_file(&file, &lock_path) => return Ok(file),
                Ok(()) => continue,
                Err(fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => return Err(CacheError::Locked(lock_path)),
                Err(fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// Removes the lock file, when no process holds the lock (a sign-out leaves no file behind).
    pub(crate) fn remove_lock(&self) {
        let lock_path = self.path.with_extension("lock");
        if let Ok(file) = private_options().open(&lock_path)
            && file.try_lock().is_ok()
        {
            let _ = fs::remove_file(&lock_path);
        }
    }

    /// The cache's directory, created private (0700) when missing; an existing one must not be writable by
    /// others (it is never chmod-ed: it may be a directory the user named for other things too).
    fn private_dir(&self) -> Result<(), CacheError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        match fs::symlink_metadata(dir) {
            Ok(meta) => check_private_dir(dir, &meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut builder = fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt;
                    builder.mode(0o700);
                }
                builder.create(dir).map_err(|e| CacheError::Io(dir.to_path_buf(), e))
            }
            Err(e) => Err(CacheError::Io(dir.to_path_buf(), e)),
        }
    }
}

/// Converts a cache error to the core's taxonomy where a caller wants one error type.
impl From<CacheError> for Error {
    fn from(_: CacheError) -> Self {
        Error::CorruptStorage { what: "token cache" }
    }
}

/// True when `path` still names the file `file` has open.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// The platform's cache directory (`~/.cache/genesys-auth`), else this user's runtime directory
/// (`$XDG_RUNTIME_DIR/genesys-auth`); never a shared directory such as `/tmp`, where another user could plant it.
fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "genesys-auth").map(|d| d.cache_dir().to_path_buf()).or_else(|| {
        std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()).map(|d| PathBuf::from(d).join("genesys-auth"))
    })
}

#[cfg(unix)]
fn check_private_dir(dir: &Path, meta: &fs::Metadata) -> Result<(), CacheError> {
    use std::os::unix::fs::MetadataExt;
    match dir_problem(meta.is_dir(), meta.mode(), meta.uid(), rustix::process::geteuid().as_raw()) {
        Some(why) => Err(CacheError::Unsafe(dir.to_path_buf(), why)),
        None => Ok(()),
    }
}

/// Why a directory of `mode` owned by `owner` is unfit for the cache of user `me`, if it is. A shared sticky
/// directory (`/tmp`) is refused too: another user may have created it, or may hold the lock file in it.
#[cfg(unix)]
fn dir_problem(is_dir: bool, mode: u32, owner: u32, me: u32) -> Option<&'static str> {
    if !is_dir {
        Some("not a directory (a symlink is not followed)")
    } else if owner != me {
        Some("the directory belongs to another user")
    } else if mode & 0o022 != 0 {
        Some("the directory is writable by other users")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn check_private_dir(dir: &Path, meta: &fs::Metadata) -> Result<(), CacheError> {
    if meta.is_dir() { Ok(()) } else { Err(CacheError::Unsafe(dir.to_path_buf(), "not a directory")) }
}

#[cfg(unix)]
fn check_private_file(path: &Path, meta: &fs::Metadata) -> Result<(), CacheError> {
    use std::os::unix::fs::MetadataExt;
    let unsafe_file = |why| Err(CacheError::Unsafe(path.to_path_buf(), why));
    if !meta.file_type().is_file() {
        return unsafe_file("not a regular file (a symlink is not followed)");
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return unsafe_file("the file belongs to another user");
    }
    if meta.mode() & 0o077 != 0 {
        return unsafe_file("other users can read or change the file (it must be mode 0600)");
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_file(path: &Path, meta: &fs::Metadata) -> Result<(), CacheError> {
    if meta.file_type().is_file() { Ok(()) } else { Err(CacheError::Unsafe(path.to_path_buf(), "not a regular file")) }
}

fn read_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No symlink followed, and a FIFO planted at the path does not block the open (it is then refused).
        o.custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32);
    }
    o
}

fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("genesys-auth-cache-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn cache(d: &Path) -> TokenCache {
        TokenCache::new(Some(d), &Region::custom("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}")), "cid")
    }

    #[test]
    fn text_round_trips_with_a_private_file_in_a_private_dir() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("roundtrip");
        let c = cache(&d);
        c.write_text("v=1&x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.read_text().ok().flatten().as_deref(), Some("v=1&x"));
        let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!((mode(&d), mode(c.path())), (0o700, 0o600));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_symlinked_cache_file_is_refused_and_not_followed() {
        let d = dir("symlink");
        let c = cache(&d);
        c.write_text("v=1").unwrap_or_else(|e| panic!("{e}"));
        let target = d.join("elsewhere");
        fs::write(&target, "genesys-auth token cache v2\nsecret").unwrap_or_else(|e| panic!("{e}"));
        fs::remove_file(c.path()).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&target, c.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.read_text(), Err(CacheError::Unsafe(..))));
        // A write replaces the link with a file of ours; the link's target is untouched.
        c.write_text("v=2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read_to_string(&target).unwrap_or_default(), "genesys-auth token cache v2\nsecret");
        assert_eq!(c.read_text().ok().flatten().as_deref(), Some("v=2"));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_planted_temporary_symlink_is_not_written_through() {
        let d = dir("tmplink");
        let c = cache(&d);
        c.write_text("v=1").unwrap_or_else(|e| panic!("{e}"));
        let victim = d.join("victim");
        fs::write(&victim, "keep").unwrap_or_else(|e| panic!("{e}"));
        let tmp = c.path().with_extension(format!("tmp{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap_or_else(|e| panic!("{e}"));
        c.write_text("v=3").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read_to_string(&victim).unwrap_or_default(), "keep");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_shared_directory_is_refused_and_never_chmod_ed() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("shared");
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap_or_else(|e| panic!("{e}"));
        let c = cache(&d);
        assert!(matches!(c.write_text("v=1"), Err(CacheError::Unsafe(..))));
        assert_eq!(fs::metadata(&d).map(|m| m.permissions().mode() & 0o777).unwrap_or(0), 0o777);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn only_a_directory_of_this_users_that_nobody_else_may_write_is_accepted() {
        assert_eq!(dir_problem(true, 0o40700, 1000, 1000), None);
        assert_eq!(dir_problem(true, 0o40755, 1000, 1000), None);
        assert_eq!(dir_problem(true, 0o41777, 0, 1000), Some("the directory belongs to another user"));
        assert_eq!(dir_problem(true, 0o41777, 1000, 1000), Some("the directory is writable by other users"));
        assert_eq!(dir_problem(true, 0o40770, 1000, 1000), Some("the directory is writable by other users"));
        assert_eq!(dir_problem(true, 0o40700, 1001, 1000), Some("the directory belongs to another user"));
        assert!(dir_problem(false, 0o40700, 1000, 1000).is_some());
    }

    #[test]
    fn a_sticky_shared_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("sticky");
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(&d, fs::Permissions::from_mode(0o1777)).unwrap_or_else(|e| panic!("{e}"));
        let c = cache(&d);
        assert!(matches!(c.write_text("v=1"), Err(CacheError::Unsafe(_, "the directory is writable by other users"))));
        assert!(matches!(c.lock(), Err(CacheError::Unsafe(..))));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_lock_held_elsewhere_is_waited_for_a_bounded_time_with_a_clear_error() {
        let d = dir("locked");
        let c = cache(&d);
        let held = c.lock().unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let e = c.lock_within(std::time::Duration::from_millis(300)).err();
        assert!(started.elapsed() >= std::time::Duration::from_millis(300));
        assert!(matches!(e, Some(CacheError::Locked(_))), "{e:?}");
        assert!(e.map(|e| e.to_string()).unwrap_or_default().contains("another process has held the lock"));
        drop(held);
        assert!(c.lock_within(std::time::Duration::from_millis(300)).is_ok());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_fifo_at_the_cache_path_is_refused_without_blocking() {
        let d = dir("fifo");
        let c = cache(&d);
        c.write_text("v=1").unwrap_or_else(|e| panic!("{e}"));
        fs::remove_file(c.path()).unwrap_or_else(|e| panic!("{e}"));
        rustix::fs::mkfifoat(rustix::fs::CWD, c.path(), rustix::fs::Mode::from_raw_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.read_text(), Err(CacheError::Unsafe(_, "not a regular file (a symlink is not followed)"))));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn without_any_directory_every_use_names_the_setting() {
        let mut c = cache(&dir("none"));
        c.no_dir = true;
        for e in [c.read_text().err(), c.write_text("v=1").err(), c.lock().err(), c.remove().err()] {
            let text = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains("GENESYS_AUTH_CACHE_DIR"), "{text}");
        }
    }

    #[test]
    fn a_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("mode");
        let c = cache(&d);
        c.write_text("v=1").unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(c.path(), fs::Permissions::from_mode(0o644)).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.read_text(), Err(CacheError::Unsafe(..))));
        let _ = fs::remove_dir_all(&d);
    }
}
