// Minimal PKCE login with auth0-spa-js: redirect, callback, token.
import { createAuth0Client } from '@auth0/auth0-spa-js';

const client = createAuth0Client({ domain: 'login.mypurecloud.ie', clientId: 'client-id', authorizationParams: { redirect_uri: 'http://localhost:3000/' } });
export const login = async () => (await client).loginWithRedirect();
export const callback = async () => { const c = await client; await c.handleRedirectCallback(); return c.getTokenSilently(); };
