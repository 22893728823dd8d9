//! The tokio executor of the core's session machine: it sends what the machine asks (reqwest), takes and releases
//! the cache's file lock, reads and writes the cache file, opens the browser, keeps the timer, and hands each
//! caller its answer. It decides nothing.

use std::collections::HashMap;
use std::fs::File;

use genesys_auth::session::{
    self, Action, Area, Event as MachineEvent, LoginOptions as MachineLogin, Outcome, Reply as MachineReply, Request,
    RequestId, Restored, Waiter,
};
use genesys_auth::{Error as CoreError, OsRng, StoredText};
use tokio::sync::{mpsc, oneshot};

use crate::{CacheError, Error, TokenCache, now_ms};

/// Opens the browser at the authorize URL (and prints it).
pub(crate) type Opener = Box<dyn FnOnce(&str) + Send>;

/// Hands the app what it should know that ends nothing ([`Action::Report`]).
pub(crate) type Reporter = Option<crate::Reporter>;

/// What a caller gets back.
pub(crate) type Reply = Result<Done, Error>;

/// A successful answer.
#[derive(Debug)]
pub(crate) enum Done {
    Token(String),
    Response(u16, Vec<u8>),
    SignedIn { expires_at_ms: u64 },
    SignedOut,
}

/// What the public [`crate::Session`] asks of the executor.
pub(crate) enum Command {
    Token(oneshot::Sender<Reply>),
    Get {
        path: String,
        reply: oneshot::Sender<Reply>,
    },
    Login {
        redirect_uri: String,
        params: Vec<(String, String)>,
        timeout_ms: u64,
        on_open: Box<dyn FnOnce(&str) + Send>,
        reply: oneshot::Sender<Reply>,
    },
    /// A callback reached the loopback listener: is it this login's?
    Callback {
        url: String,
        reply: oneshot::Sender<bool>,
    },
    Logout(oneshot::Sender<Reply>),
}

/// What the executor's own tasks report back.
enum Event {
    Answer { id: RequestId, answer: Result<(u16, Option<String>, Vec<u8>), String> },
    Locked(Result<File, CacheError>),
}

struct Executor {
    machine: session::Session,
    cache: TokenCache,
    http: reqwest::Client,
    events: mpsc::UnboundedSender<Event>,
    waiters: HashMap<Waiter, (oneshot::Sender<Reply>, bool)>,
    next_waiter: Waiter,
    /// API requests on the wire, by the caller they are for.
    api_calls: HashMap<RequestId, Waiter>,
    /// The tasks sending requests, to drop one the machine gives up.
    sending: HashMap<RequestId, tokio::task::AbortHandle>,
    /// The latest API answer of each caller (status, body): only these are ever handed over; token answers,
    /// which hold tokens, are not kept.
    responses: HashMap<Waiter, (u16, Vec<u8>)>,
    lock: Option<File>,
    /// What the machine keeps in this process's own storage (the pending login, its marks), by key.
    own: HashMap<String, StoredText>,
    on_open: Option<Opener>,
    on_report: Reporter,
    /// The cache text last read or written: a changed file means another process changed the session.
    last_text: Option<String>,
    /// The cache held something the machine discarded (reported as an unreadable cache, not just "sign in").
    discarded: bool,
    /// The cache file was removed under the lock: its lock file goes too once the lock is released.
    removed: bool,
}

/// Starts the executor on the current tokio runtime.
pub(crate) fn start(
    config: session::Config,
    cache: TokenCache,
    http: reqwest::Client,
    on_report: Reporter,
) -> mpsc::UnboundedSender<Command> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::unbounded_channel();
    let stored = cache.read_text();
    let (text, unsafe_cache) = match stored {
        Ok(t) => (t, None),
        Err(e) => (None, Some(e)),
    };
    let mut machine = session::Session::new(config, Box::new(OsRng));
    machine.handle(MachineEvent::Restored(Restored { tokens: text.as_deref(), ..Restored::default() }), now_ms());
    let discarded = machine.discarded().is_some();
    let executor = Executor {
        machine,
        cache,
        http,
        events,
        waiters: HashMap::new(),
        next_waiter: 1,
        api_calls: HashMap::new(),
        sending: HashMap::new(),
        responses: HashMap::new(),
        lock: None,
        own: HashMap::new(),
        on_open: None,
        on_report,
        last_text: text,
        discarded,
        removed: false,
    };
    tokio::spawn(executor.run(rx, events_rx, unsafe_cache));
    tx
}

impl Executor {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        unsafe_cache: Option<CacheError>,
    ) {
        let mut open = true;
        loop {
            self.execute();
            if !open {
                // Nobody can ask any more: callers that stopped waiting are gone; the task ends with the last one.
                self.waiters.retain(|_, (reply, _)| !reply.is_closed());
                if self.waiters.is_empty() {
                    // Its requests go with it.
                    for (_, task) in self.sending.drain() {
                        task.abort();
                    }
                    return;
                }
            }
            let deadline = self.machine.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep(std::time::Duration::from_millis(at.saturating_sub(now_ms()))).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv(), if open => match command {
                    Some(command) => {
                        match &unsafe_cache {
                            // An unsafe cache file is never used: every command hears why.
                            Some(e) => refuse(command, e),
                            None => self.command(command),
                        }
                    }
                    None => open = false,
                },
                Some(event) = events.recv() => self.event(event),
                () = sleep => self.machine.handle(MachineEvent::Timeout, now_ms()),
                // A caller that stopped waiting (its future dropped) is noticed without a busy loop.
                () = tokio::time::sleep(std::time::Duration::from_millis(200)), if !open => {}
            }
        }
    }

    fn waiter(&mut self, reply: oneshot::Sender<Reply>, login: bool) -> Waiter {
        let w = self.next_waiter;
        self.next_waiter += 1;
        self.waiters.insert(w, (reply, login));
        w
    }

    /// Another process may have changed the cache since this one last looked.
    fn reload(&mut self) {
        if let Ok(text) = self.cache.read_text()
            && text != self.last_text
        {
            self.machine.handle(MachineEvent::StoredChanged { stored: text.as_deref() }, now_ms());
            self.last_text = text;
        }
    }

    fn command(&mut self, command: Command) {
        let now = now_ms();
        match command {
            Command::Token(reply) => {
                self.reload();
                let waiter = self.waiter(reply, false);
                self.machine.handle(MachineEvent::WantToken { waiter }, now);
            }
            Command::Get { path, reply } => {
                self.reload();
                let waiter = self.waiter(reply, false);
                self.machine.handle(MachineEvent::Fetch { waiter, path_or_url: &path }, now);
            }
            Command::Login { redirect_uri, params, timeout_ms, on_open, reply } => {
                let waiter = self.waiter(reply, true);
                self.on_open = Some(on_open);
                let options = MachineLogin {
                    popup: Some(true),
                    redirect_uri: Some(redirect_uri),
                    timeout_ms: Some(timeout_ms),
                    params,
                    ..MachineLogin::default()
                };
                self.machine.handle(MachineEvent::Login { waiter, options }, now);
            }
            Command::Callback { url, reply } => {
                let ours = self.machine.is_login_callback(&url);
                if ours {
                    self.machine.handle(MachineEvent::PopupCallback { url: &url }, now);
                }
                let _ = reply.send(ours);
            }
            Command::Logout(reply) => {
                self.reload();
                let waiter = self.waiter(reply, false);
                self.machine.handle(MachineEvent::Logout { waiter, sso_return: None }, now);
            }
        }
    }

    fn event(&mut self, event: Event) {
        let now = now_ms();
        match event {
            Event::Answer { id, answer: Ok((status, retry_after, body)) } => {
                self.sending.remove(&id);
                let reply = MachineReply::Http { status, retry_after: retry_after.as_deref(), body: Some(&body) };
                self.machine.handle(MachineEvent::Answer { id, reply }, now);
                // Kept in case the machine hands this answer to its caller (it resolves after this event).
                if let Some(waiter) = self.api_calls.remove(&id) {
                    self.responses.insert(waiter, (status, body));
                }
            }
            Event::Answer { id, answer: Err(detail) } => {
                self.sending.remove(&id);
                self.api_calls.remove(&id);
                self.machine.handle(MachineEvent::Answer { id, reply: MachineReply::Network { detail: &detail } }, now);
            }
            Event::Locked(Ok(file)) => {
                self.lock = Some(file);
                let text = self.cache.read_text().ok().flatten();
                self.machine.handle(MachineEvent::LockGranted { stored: text.as_deref() }, now);
                self.last_text = text;
            }
            Event::Locked(Err(e)) => {
                let text = self.cache.read_text().ok().flatten();
                let detail = e.to_string();
                self.machine.handle(MachineEvent::LockUnavailable { stored: text.as_deref(), detail: &detail }, now);
                self.last_text = text;
            }
        }
    }

    /// Does what the machine asks, in order, until it asks nothing more.
    fn execute(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            match action {
                Action::Send(request) => self.send(request),
                Action::Abort { request } => {
                    if let Some(task) = self.sending.remove(&request) {
                        task.abort();
                    }
                    self.api_calls.remove(&request);
                }
                Action::ReadBody { .. } => {} // bodies are always read here
                Action::Lock { name: _ } => {
                    // The cache's own lock file (one per cache, whatever the name): taken off the async threads.
                    let (cache, events) = (self.cache.clone(), self.events.clone());
                    tokio::spawn(async move {
                        let locked = tokio::task::spawn_blocking(move || cache.lock()).await;
                        let locked =
                            locked.unwrap_or_else(|e| Err(CacheError::Io("lock".into(), std::io::Error::other(e))));
                        let _ = events.send(Event::Locked(locked));
                    });
                }
                Action::Unlock => {
                    self.lock = None;
                    if std::mem::take(&mut self.removed) {
                        // A sign-out leaves no file behind (unless another process holds the lock now).
                        self.cache.remove_lock();
                    }
                }
                Action::Store { slot, place, text } => match place.area {
                    // The shared storage of this process is the token cache file.
                    Area::Shared => match self.cache.write_text(text.secret()) {
                        Ok(()) => self.last_text = Some(text.secret().to_string()),
                        Err(e) => {
                            let detail = e.to_string();
                            self.machine.handle(MachineEvent::StoreFailed { slot, detail: &detail }, now_ms());
                        }
                    },
                    Area::Own => drop(self.own.insert(place.key, text)),
                },
                Action::Remove { slot: _, place } => match place.area {
                    Area::Shared => {
                        if let Err(e) = self.cache.remove() {
                            self.report(&CoreError::StorageUnavailable { detail: e.to_string() });
                        }
                        self.last_text = None;
                        self.removed = self.lock.is_some();
                    }
                    Area::Own => drop(self.own.remove(&place.key)),
                },
                // Other processes see the cache file change; nothing to tell them otherwise.
                Action::Announce(_) => {}
                Action::Navigate { url } | Action::OpenPopup { url, .. } => {
                    if let Some(open) = self.on_open.take() {
                        open(&url);
                    }
                }
                // The system browser shows our page after the callback; no address bar of ours to clean.
                Action::ClosePopup | Action::ReplaceAddress { .. } => {}
                Action::Resolve { waiters, outcome } => self.resolve(waiters, &outcome),
                Action::Retrying(_) | Action::Changed => {}
                Action::Report(e) => self.report(&e),
            }
        }
    }

    fn report(&self, error: &CoreError) {
        if let Some(hook) = &self.on_report {
            hook(error);
        }
    }

    fn send(&mut self, request: Request) {
        let events = self.events.clone();
        let (id, builder) = match request {
            Request::Token { id, request } => {
                let mut b = self.http.post(request.url()).body(request.body().to_string());
                for (k, v) in genesys_auth::TokenRequest::HEADERS {
                    b = b.header(k, v);
                }
                (id, b)
            }
            Request::Api { id, waiter, url, token } => {
                self.api_calls.insert(id, waiter);
                (id, self.http.get(url).bearer_auth(token.secret()))
            }
            Request::Revoke { id, url, token } => (id, self.http.delete(url).bearer_auth(token.secret())),
        };
        let task = tokio::spawn(async move {
            let answer = match builder.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after =
                        resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                    match resp.bytes().await {
                        Ok(body) => Ok((status, retry_after, body.to_vec())),
                        Err(e) => Err(e.to_string()),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = events.send(Event::Answer { id, answer });
        });
        self.sending.insert(id, task.abort_handle());
    }

    fn resolve(&mut self, waiters: Vec<Waiter>, outcome: &Result<Outcome, CoreError>) {
        for w in waiters {
            let Some((reply, login)) = self.waiters.remove(&w) else { continue };
            let answer = match outcome {
                Ok(Outcome::Token(t)) => Ok(Done::Token(t.secret().to_string())),
                Ok(Outcome::Response { .. }) => {
                    let (status, body) = self.responses.remove(&w).unwrap_or((0, Vec::new()));
                    Ok(Done::Response(status, body))
                }
                Ok(Outcome::SignedIn { .. }) => {
                    Ok(Done::SignedIn { expires_at_ms: self.machine.expires_at_ms().unwrap_or(0) })
                }
                Ok(Outcome::SignedOut) => Ok(Done::SignedOut),
                // Outcomes of the browser's events, which this executor never sends.
                Ok(Outcome::Refreshed | Outcome::NoCallback | Outcome::Navigating) => Ok(Done::SignedOut),
                Err(CoreError::LoginRequired) if self.discarded && !login => {
                    Err(Error::Cache(CacheError::Unreadable(self.cache.path().to_path_buf())))
                }
                Err(e) => Err(Error::Auth(e.clone())),
            };
            if matches!(answer, Ok(Done::SignedIn { .. })) {
                self.discarded = false;
            }
            // An answer of a call that ended otherwise (refused, retried out) is not kept either.
            self.responses.remove(&w);
            let _ = reply.send(answer);
        }
    }
}

/// Answers `command` with the reason the cache cannot be used.
fn refuse(command: Command, e: &CacheError) {
    let error = || {
        Error::Cache(match e {
            CacheError::Unsafe(p, why) => CacheError::Unsafe(p.clone(), why),
            CacheError::Unreadable(p) => CacheError::Unreadable(p.clone()),
            CacheError::Io(p, io) => CacheError::Io(p.clone(), std::io::Error::new(io.kind(), io.to_string())),
            CacheError::NoDirectory => CacheError::NoDirectory,
            CacheError::Locked(p) => CacheError::Locked(p.clone()),
        })
    };
    match command {
        Command::Token(r) | Command::Get { reply: r, .. } | Command::Login { reply: r, .. } | Command::Logout(r) => {
            let _ = r.send(Err(error()));
        }
        Command::Callback { reply, .. } => {
            let _ = reply.send(false);
        }
    }
}
