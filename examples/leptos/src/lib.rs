//! The same app as the React example, in Rust with Leptos: sign in, profile, refresh, sign out.

use genesys_auth::{Error, Region};
use genesys_auth_web::{Auth, Config, StorageKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

/// What the page shows.
#[derive(Clone, Debug, PartialEq)]
enum View {
    Loading,
    SignedOut,
    SignedIn { name: String, email: String, presence: String },
    Failed { code: &'static str, message: String },
}

fn failed(e: &Error) -> View {
    View::Failed { code: e.code(), message: e.to_string() }
}

/// Region and client id: the page sets `window.GENESYS_DEMO = { region, clientId }` (the demo server's emulator).
fn settings() -> (String, String) {
    let global = js_sys::global();
    let config = js_sys::Reflect::get(&global, &"GENESYS_DEMO".into()).unwrap_or(JsValue::UNDEFINED);
    let get = |k: &str| js_sys::Reflect::get(&config, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    (get("region"), get("clientId"))
}

fn make_auth() -> Result<Auth, Error> {
    let (region, client_id) = settings();
    let origin = web_sys_origin();
    let mut config = Config::new(Region::from_config(&region)?, &client_id, &format!("{origin}/leptos/"));
    config.storage = StorageKind::Session;
    Auth::new(config)
}

fn web_sys_origin() -> String {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"origin".into()))
        .ok()
        .and_then(|o| o.as_string())
        .unwrap_or_default()
}

async fn load_profile(auth: &Auth) -> View {
    match auth.current_user(Some("presence")).await {
        Ok(me) => {
            let get = |path: &[&str]| {
                let mut v = me.clone();
                for key in path {
                    v = js_sys::Reflect::get(&v, &(*key).into()).unwrap_or(JsValue::UNDEFINED);
                }
                v.as_string().unwrap_or_default()
            };
            View::SignedIn {
                name: get(&["name"]),
                email: get(&["email"]),
                presence: get(&["presence", "presenceDefinition", "systemPresence"]),
            }
        }
        Err(e) => failed(&e),
    }
}

#[component]
fn App() -> impl IntoView {
    let view = RwSignal::new(View::Loading);
    let auth = StoredValue::new_local(make_auth());
    spawn_local(async move {
        let Ok(a) = auth.get_value() else {
            if let Err(e) = auth.get_value() {
                view.set(failed(&e));
            }
            return;
        };
        let next = match a.handle_redirect_callback().await {
            Err(e) => failed(&e),
            Ok(_) if a.is_authenticated() => load_profile(&a).await,
            Ok(_) => View::SignedOut,
        };
        view.set(next);
    });
    let refreshed = RwSignal::new(0u32);
    let login = move |_| {
        if let Ok(a) = auth.get_value() {
            spawn_local(async move {
                if let Err(e) = a.login(Some("/leptos/")).await {
                    view.set(failed(&e));
                }
            });
        }
    };
    let refresh = move |_| {
        if let Ok(a) = auth.get_value() {
            spawn_local(async move {
                match a.refresh().await {
                    Ok(()) => refreshed.update(|n| *n += 1),
                    Err(e) => view.set(failed(&e)),
                }
            });
        }
    };
    let logout = move |_| {
        if let Ok(a) = auth.get_value() {
            spawn_local(async move {
                let _ = a.logout(None).await;
                view.set(View::SignedOut);
            });
        }
    };
    view! {
        <main style="max-width:560px;margin:40px auto;font:15px/1.5 system-ui,sans-serif">
            <h1>"genesys-auth · Leptos"</h1>
            {move || match view.get() {
                View::Loading => view! { <p data-testid="loading">"Loading…"</p> }.into_any(),
                View::SignedOut => view! {
                    <p>"Signed out."</p>
                    <button data-testid="login" on:click=login>"Sign in with Genesys Cloud"</button>
                }.into_any(),
                View::SignedIn { name, email, presence } => view! {
                    <dl data-testid="profile">
                        <dt>"Name"</dt><dd data-testid="name">{name}</dd>
                        <dt>"Email"</dt><dd>{email}</dd>
                        <dt>"Presence"</dt><dd>{presence}</dd>
                    </dl>
                    <p>"Refreshed: "<span data-testid="refreshed">{move || refreshed.get()}</span></p>
                    <button data-testid="refresh" on:click=refresh>"Refresh the token"</button>
                    <button data-testid="logout" on:click=logout>"Sign out"</button>
                }.into_any(),
                View::Failed { code, message } => view! {
                    <p role="alert" data-testid="error">{code}": "{message}</p>
                }.into_any(),
            }}
        </main>
    }
}

/// Mounts the app.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}
