// Compiled by `cargo xtask test` with `tsc --noEmit --strict` against the built package: the hand-written
// declarations (npm/index.d.ts) must describe what apps write. A wrong name or type here fails the build.
import { GenesysAuth, ready, type AuthState, type GenesysAuthError, type LoginOptions, type RetryEvent } from '../target/npm/genesys-auth/index.js';
import { connectSdk } from '../target/npm/genesys-auth/sdk.js';

export async function app(): Promise<string | undefined> {
  await ready();
  const region: string | undefined = GenesysAuth.regionFromHostParams({ allow: ['http://127.0.0.1:8080'] });
  const auth: GenesysAuth = await GenesysAuth.create({
    region: region ?? 'mypurecloud.ie',
    clientId: 'id',
    redirectUri: 'http://localhost:3000/',
    scopes: ['users', 'presence'],
    storage: 'session',
    reloginOnExpiry: false,
    refreshSkewSeconds: 30,
    retry: { maxAttempts: 3, baseDelayMs: 100 },
    onRetry: (e: RetryEvent) => console.log(e.url, e.attempt, e.status, e.delayMs),
    keepFresh: true,
  });
  const wasOn: boolean = auth.keepFresh(false);
  const onApi: string | undefined = auth.apiUrl('/api/v2/users/me');
  const sdk = { setAccessToken: (t: string | undefined) => console.log(t === undefined) };
  const disconnect: () => void = await connectSdk(auth, sdk);
  disconnect();
  if (wasOn) auth.keepFresh();
  const back: string | undefined = await auth.handleRedirectCallback();
  const listener = auth.onTokenChange((s: AuthState) => console.log(s.authenticated, s.expiresAt));
  auth.offTokenChange(listener);
  if (!auth.isAuthenticated()) await auth.login({ returnTo: '/inbox' });
  const sso: LoginOptions = { org: 'acme', provider: 'okta', loginHint: 'alex@example.com', prompt: 'login', params: { ui_locales: 'fr-CA' } };
  await auth.login(sso);
  if (auth.isFramed()) await auth.loginWithPopup({ timeoutMs: 60_000 });
  const token: string = await auth.accessToken();
  const response: Response = await auth.fetch('/api/v2/users/me', { headers: { Accept: 'application/json' } });
  const me = await auth.currentUser('presence');
  const discarded: GenesysAuthError | undefined = auth.discardedStorage();
  if (discarded) console.log(discarded.code, discarded.message);
  try {
    await auth.refresh();
  } catch (e) {
    const err = e as GenesysAuthError;
    if (err.code === 'login_required') await auth.logout({ sso: true, returnTo: 'http://localhost:3000/' });
  }
  console.log(token.length, response.status, me, auth.state().expiresAt);
  return back;
}
