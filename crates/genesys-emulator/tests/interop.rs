//! Interop: a client nobody here wrote (the `oauth2` crate) completes the PKCE code flow and a refresh against
//! the emulator over real loopback sockets.

use std::sync::Arc;

use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator, server};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, TokenResponse, TokenUrl,
};

#[tokio::test]
async fn oauth2_crate_completes_pkce_flow_and_refresh() {
    let config = Config { auto_login: Some("dana".into()), ..Config::default() };
    let running =
        server::start(Arc::new(Emulator::new(config)), "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    let base = running.base_url();
    let client = BasicClient::new(ClientId::new(DEMO_CLIENT_ID.into()))
        .set_auth_uri(AuthUrl::new(format!("{base}/oauth/authorize")).unwrap_or_else(|e| panic!("{e}")))
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).unwrap_or_else(|e| panic!("{e}")))
        .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:7777/callback".into()).unwrap_or_else(|e| panic!("{e}")));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();

    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let answer = http.get(url.as_str()).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap_or_default().to_string();
    assert!(location.starts_with("http://127.0.0.1:7777/callback?"), "{location}");
    let query = location.split_once('?').map(|x| x.1).unwrap_or("");
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(&get("state"), csrf.secret());

    let token = client
        .exchange_code(AuthorizationCode::new(get("code")))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    assert!(token.expires_in().is_some());
    let refresh = token.refresh_token().unwrap_or_else(|| panic!("no refresh token"));

    let me = http
        .get(format!("{base}/api/v2/users/me"))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(me.status(), 200);

    let refreshed =
        client.exchange_refresh_token(refresh).request_async(&http).await.unwrap_or_else(|e| panic!("refresh: {e:?}"));
    assert_ne!(refreshed.access_token().secret(), token.access_token().secret());
    // The rotated-out refresh token is refused: the oauth2 crate reports the server's invalid_grant.
    let reuse = client.exchange_refresh_token(refresh).request_async(&http).await;
    assert!(format!("{reuse:?}").contains("invalid_grant"), "{reuse:?}");
    running.stop();
}
