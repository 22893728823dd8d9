//! Helpers for driving the emulator's pure handler in tests: no sockets, a fixed clock.

#![allow(dead_code)]

use bytes::Bytes;
use genesys_auth::{OsRng, Verifier};
use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator};
use http::{Request, Response};
use serde_json::Value;

pub const REDIRECT: &str = "http://localhost:3000/";
pub const T0: u64 = 1_800_000_000_000;

pub struct Harness {
    pub emu: Emulator,
    pub now: u64,
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// The query parameters of the Location header.
    pub fn location_params(&self) -> Vec<(String, String)> {
        let loc = self.header("location").unwrap_or_default();
        let q = loc.split_once('?').map(|x| x.1).unwrap_or("").to_string();
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }
    pub fn location_param(&self, name: &str) -> Option<String> {
        self.location_params().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    pub fn oauth_error(&self) -> Option<String> {
        self.json().get("error").and_then(Value::as_str).map(str::to_string)
    }
}

fn answer(r: Response<Bytes>) -> Answer {
    let (parts, body) = r.into_parts();
    Answer { status: parts.status.as_u16(), headers: parts.headers, body }
}

pub fn auto_config() -> Config {
    Config { auto_login: Some("alex".into()), ..Config::default() }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Harness {
    pub fn new(config: Config) -> Self {
        Harness { emu: Emulator::new(config), now: T0 }
    }

    pub fn send(&self, req: Request<Bytes>) -> Answer {
        answer(self.emu.handle(req, self.now).response)
    }

    pub fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Bytes::new()).unwrap_or_default())
    }

    pub fn api(&self, method: &str, uri: &str, token: &str) -> Answer {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Bytes::new())
            .unwrap_or_default();
        self.send(req)
    }

    pub fn post_form(&self, uri: &str, body: &str) -> Answer {
        let req = Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from(body.to_string()))
            .unwrap_or_default();
        self.send(req)
    }

    pub fn authorize_query(client_id: &str, redirect: &str, challenge: &str, state: &str) -> String {
        form(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", state),
        ])
    }

    /// Authorize (auto-login) and return (code, verifier).
    pub fn code(&self) -> (String, String) {
        self.code_for(DEMO_CLIENT_ID, REDIRECT)
    }

    pub fn code_for(&self, client_id: &str, redirect: &str) -> (String, String) {
        let v = Verifier::generate(&mut OsRng).unwrap_or_else(|e| panic!("{e}"));
        let q = Self::authorize_query(client_id, redirect, v.challenge().as_str(), "st");
        let a = self.get(&format!("/oauth/authorize?{q}"));
        assert_eq!(a.status, 302, "{}", a.text());
        let code = a.location_param("code").unwrap_or_else(|| panic!("no code in {:?}", a.header("location")));
        (code, v.secret().to_string())
    }

    pub fn exchange(&self, code: &str, verifier: &str) -> Answer {
        self.post_form(
            "/oauth/token",
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
                ("client_id", DEMO_CLIENT_ID),
                ("redirect_uri", REDIRECT),
            ]),
        )
    }

    pub fn refresh(&self, refresh: &str) -> Answer {
        self.post_form(
            "/oauth/token",
            &form(&[("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", DEMO_CLIENT_ID)]),
        )
    }

    /// A full login: (access, refresh).
    pub fn login(&self) -> (String, Option<String>) {
        let (code, verifier) = self.code();
        let t = self.exchange(&code, &verifier);
        assert_eq!(t.status, 200, "{}", t.text());
        let j = t.json();
        (j["access_token"].as_str().unwrap_or_default().to_string(), j["refresh_token"].as_str().map(str::to_string))
    }
}
