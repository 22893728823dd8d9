//! Popup login, for apps that Genesys Cloud shows inside an iframe (client apps, interaction widgets), where a
//! full-page redirect would replace the app or be refused by the login page's framing rules.
//!
//! The opener keeps the pending login in memory and opens the authorize URL in a named popup. The callback
//! comes back in the popup, whose page (any page running this library, on the redirect URI) hands the callback
//! URL to the opener on a BroadcastChannel named after the login's `state` — same-origin only by design — and
//! closes. The opener checks the state again, exchanges the code, and closes the popup if it is still open.

use genesys_auth::concat;
use std::cell::RefCell;
use std::rc::Rc;

use genesys_auth::{Callback, Error, PendingLogin};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

use crate::browser::{self, now_ms};
use crate::error::from_js;

/// The popup's window name: a page loaded under this name with a callback URL hands it to the opener.
pub(crate) const POPUP_NAME: &str = "genesys-auth-popup";

/// A browser without BroadcastChannel.
pub(crate) const NO_BROADCAST: Error = Error::InvalidConfig {
    field: "environment",
    reason: "popup login needs BroadcastChannel, which this browser lacks: use login() with a redirect",
};

fn channel_name(state: &str) -> String {
    concat(&["genesys-auth:popup:", state])
}

/// True when this page runs inside a frame (as Genesys Cloud shows client apps).
pub fn is_framed() -> bool {
    let Some(w) = web_sys::window() else { return false };
    match w.top() {
        Ok(Some(top)) => !js_sys::Object::is(&top, &w),
        // A cross-origin top may be unreadable: then we certainly are framed.
        _ => true,
    }
}

/// In the popup: when this window was opened for a popup login and `href` is its callback, hands the URL to
/// the opener and closes. Returns true when it did.
pub(crate) fn hand_to_opener(href: &str) -> bool {
    let Some(w) = web_sys::window() else { return false };
    if w.name().ok().as_deref() != Some(POPUP_NAME) || !Callback::is_callback(href) {
        return false;
    }
    let Ok(callback) = Callback::parse(href) else { return false };
    let Some(state) = callback.state() else { return false };
    let Some(channel) = browser::channel(&channel_name(state.secret())) else { return false };
    let _ = channel.post_message(&JsValue::from_str(href));
    channel.close();
    // Keep the code out of this window's history before it goes away.
    let _ = browser::replace_url("/");
    let _ = w.close();
    true
}

/// A popup login in progress: the popup is open; [`PopupLogin::finish`] waits for its callback.
pub struct PopupLogin {
    pending: PendingLogin,
    popup: web_sys::Window,
    channel: web_sys::BroadcastChannel,
    arrived: Rc<RefCell<Vec<String>>>,
    _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl PopupLogin {
    /// Opens `url` in the popup. Call synchronously from a user gesture (a click), or the browser blocks it.
    pub(crate) fn open(url: &str, pending: PendingLogin) -> Result<PopupLogin, Error> {
        let w = browser::window()?;
        let (width, height) = (520.0, 680.0);
        let num = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
        // Centred on the window that opens it.
        let left = num(w.screen_x()) + (num(w.outer_width()) - width) / 2.0;
        let top = num(w.screen_y()) + (num(w.outer_height()) - height) / 2.0;
        // Integers, without core::fmt: formatting (floats above all) would add kilobytes to the bundle.
        let n = |v: f64| genesys_auth::decimal(v.max(0.0) as u64);
        let features =
            concat(&["popup=yes,width=", &n(width), ",height=", &n(height), ",left=", &n(left), ",top=", &n(top)]);
        // The channel first: without one the popup could never hand its callback back, so none is opened.
        let channel = browser::channel(&channel_name(pending.state().secret())).ok_or(NO_BROADCAST)?;
        let popup = w.open_with_url_and_target_and_features(url, POPUP_NAME, &features).map_err(|e| from_js(&e))?;
        let Some(popup) = popup else {
            channel.close();
            return Err(Error::PopupBlocked);
        };
        let arrived: Rc<RefCell<Vec<String>>> = Rc::default();
        let sink = arrived.clone();
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            // Only strings are callback URLs; anything else on the channel is ignored.
            if let Some(url) = event.data().as_string() {
                sink.borrow_mut().push(url);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Ok(PopupLogin { pending, popup, channel, arrived, _listener: listener })
    }

    /// Waits for the callback (or the user closing the popup, or `timeout_ms`), and returns the pending login
    /// with the callback URL to complete it with.
    pub(crate) async fn finish(self, timeout_ms: u64) -> Result<(PendingLogin, String), Error> {
        let started = now_ms();
        let result = loop {
            let next = self.arrived.borrow_mut().pop();
            if let Some(url) = next {
                // A message for another state cannot arrive on this channel; checked again anyway, and ignored.
                let same_state =
                    Callback::parse(&url).ok().and_then(|c| c.state().map(|s| *s == *self.pending.state()));
                if same_state == Some(true) {
                    break Ok(url);
                }
                continue;
            }
            if self.popup.closed().unwrap_or(true) {
                // The callback may have been posted just before the popup closed itself.
                browser::sleep(100).await;
                if self.arrived.borrow().is_empty() {
                    break Err(Error::PopupClosed);
                }
                continue;
            }
            if now_ms().saturating_sub(started) > timeout_ms {
                break Err(Error::PopupTimeout);
            }
            browser::sleep(150).await;
        };
        self.channel.set_onmessage(None);
        self.channel.close();
        let _ = self.popup.close();
        result.map(|url| (self.pending, url))
    }
}
