// Minimal PKCE login with oidc-client-ts: redirect, callback, token.
import { UserManager } from 'oidc-client-ts';

const manager = new UserManager({
  authority: 'https://login.mypurecloud.ie',
  client_id: 'client-id',
  redirect_uri: 'http://localhost:3000/',
  response_type: 'code',
});
export const login = () => manager.signinRedirect();
export const callback = async () => (await manager.signinRedirectCallback()).access_token;
