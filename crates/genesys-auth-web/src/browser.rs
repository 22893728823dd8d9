//! The browser's facilities, each behind one small function: clock, location, history, storage, timers.

use genesys_auth::Error;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::from_js;

pub(crate) fn window() -> Result<web_sys::Window, Error> {
    web_sys::window().ok_or(Error::InvalidConfig {
        field: "environment",
        reason: "genesys-auth-web needs a browser window (not a worker or Node.js)",
    })
}

/// Wall-clock time in epoch milliseconds.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub(crate) fn href() -> Result<String, Error> {
    window()?.location().href().map_err(|e| from_js(&e))
}

/// Replaces the address bar URL without navigating (removes `code` and `state` after a callback).
pub(crate) fn replace_url(url: &str) -> Result<(), Error> {
    let history = window()?.history().map_err(|e| from_js(&e))?;
    history.replace_state_with_url(&JsValue::NULL, "", Some(url)).map_err(|e| from_js(&e))
}

/// Navigates the whole page.
pub(crate) fn navigate(url: &str) -> Result<(), Error> {
    window()?.location().assign(url).map_err(|e| from_js(&e))
}

/// Waits `ms` milliseconds.
pub(crate) async fn sleep(ms: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.min(i32::MAX as u64) as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

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

/// Web storage refused by the browser.
pub(crate) const NO_STORAGE: Error = Error::InvalidConfig {
    field: "storage",
    reason: "this browser refuses web storage here (privacy mode?): use storage \"memory\"",
};

/// `sessionStorage` or `localStorage`; `None` when the browser refuses (privacy modes) or for memory.
pub(crate) fn web_storage(kind: StorageKind) -> Option<web_sys::Storage> {
    let w = web_sys::window()?;
    match kind {
        StorageKind::Memory => None,
        StorageKind::Session => w.session_storage().ok().flatten(),
        StorageKind::Local => w.local_storage().ok().flatten(),
    }
}

/// Reads a key; storage failures read as absent.
pub(crate) fn storage_get(kind: StorageKind, key: &str) -> Option<String> {
    web_storage(kind)?.get_item(key).ok().flatten()
}

/// Writes a key; a refusal (quota, privacy mode) is reported.
pub(crate) fn storage_set(kind: StorageKind, key: &str, value: &str) -> Result<(), Error> {
    match web_storage(kind) {
        Some(s) => s.set_item(key, value).map_err(|e| from_js(&e)),
        None if kind == StorageKind::Memory => Ok(()),
        None => Err(NO_STORAGE),
    }
}

pub(crate) fn storage_remove(kind: StorageKind, key: &str) {
    if let Some(s) = web_storage(kind) {
        let _ = s.remove_item(key);
    }
}

/// Runs `work` while holding the Web Lock `name` (shared by all tabs of the origin), or without a lock where the
/// browser has no Web Locks API (then only this tab's single flight applies).
pub(crate) async fn with_lock(
    name: &str,
    work: impl std::future::Future<Output = Result<(), Error>> + 'static,
) -> Result<(), Error> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    type Work = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>>>>;
    let work: Rc<RefCell<Option<Work>>> = Rc::new(RefCell::new(Some(Box::pin(work))));
    let Some(locks) = web_sys::window().and_then(|w| w.navigator().unchecked_into::<NavigatorLocks>().locks()) else {
        let w = work.borrow_mut().take();
        return match w {
            Some(w) => w.await,
            None => Ok(()),
        };
    };
    let result: Rc<RefCell<Option<Result<(), Error>>>> = Rc::new(RefCell::new(None));
    let (pending, out) = (work.clone(), result.clone());
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        let w = pending.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(w) = w {
                *out.borrow_mut() = Some(w.await);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let locked = JsFuture::from(locks.request(name, callback.unchecked_ref())).await;
    let done = result.borrow_mut().take();
    let unstarted = work.borrow_mut().take();
    match (done, unstarted) {
        (Some(r), _) => r,
        // The lock was refused before the work ran (page teardown, exotic browsers): run it unlocked.
        (None, Some(w)) => w.await,
        (None, None) => Err(locked
            .err()
            .map_or(Error::Network { detail: "the Web Lock request ended without result".into() }, |e| from_js(&e))),
    }
}

// The Web Locks API, bound here rather than through web-sys, whose binding is behind `web_sys_unstable_apis`:
// apps using our Rust API would otherwise have to set that cfg themselves.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = web_sys::Navigator)]
    type NavigatorLocks;
    /// `navigator.locks`, absent in old browsers and insecure contexts.
    #[wasm_bindgen(method, getter)]
    fn locks(this: &NavigatorLocks) -> Option<LockManager>;

    type LockManager;
    /// `navigator.locks.request(name, callback)`: runs `callback` holding the exclusive lock `name`.
    #[wasm_bindgen(method)]
    fn request(this: &LockManager, name: &str, callback: &js_sys::Function) -> js_sys::Promise;
}

/// A BroadcastChannel for the tabs of this origin, if the browser has one.
pub(crate) fn channel(name: &str) -> Option<web_sys::BroadcastChannel> {
    web_sys::BroadcastChannel::new(name).ok()
}
