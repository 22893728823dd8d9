// Minimal PKCE login with oauth4webapi: redirect, callback, token.
import * as oauth from 'oauth4webapi';

const as = { issuer: 'https://login.mypurecloud.ie', authorization_endpoint: 'https://login.mypurecloud.ie/oauth/authorize', token_endpoint: 'https://login.mypurecloud.ie/oauth/token' };
const client = { client_id: 'client-id' };
const redirectUri = 'http://localhost:3000/';
export async function login() {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  location.assign(url);
}
export async function callback() {
  const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier);
  return (await oauth.processAuthorizationCodeResponse(as, client, response)).access_token;
}
