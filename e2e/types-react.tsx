// Compiled by `cargo xtask test` with `tsc --noEmit --strict --jsx react-jsx` against the built package: the
// declarations of `genesys-auth/react` must describe what React apps write.
import { GenesysAuthProvider, RequireAuth, useGenesysAuth, type GenesysAuthContext } from '../target/npm/genesys-auth/react.js';
import type { GenesysAuthError } from '../target/npm/genesys-auth/index.js';

function Profile() {
  const auth: GenesysAuthContext = useGenesysAuth();
  const { isLoading, isAuthenticated, user, login, logout, accessToken, fetch } = auth;
  const error: GenesysAuthError | null = auth.error;
  const expiresAt: number | null | undefined = auth.expiresAt;
  if (isLoading) return <p>Loading…</p>;
  if (!isAuthenticated) return <button onClick={() => login({ org: 'acme', provider: 'okta' })}>Sign in</button>;
  const presence = async (): Promise<Response> => fetch('/api/v2/users/me?expand=presence', { headers: { Accept: 'application/json' } });
  const bearer = async (): Promise<string> => `Bearer ${await accessToken()}`;
  return (
    <div>
      <p>{user?.name} {error?.code} {expiresAt}</p>
      <button onClick={() => { presence(); bearer(); }}>Check</button>
      <button onClick={() => logout({ returnTo: '/' })}>Sign out</button>
    </div>
  );
}

export function App() {
  return (
    <GenesysAuthProvider region="mypurecloud.ie" clientId="cid" redirectUri="http://localhost:3000/" storage="session"
      userExpand="presence" onRedirectCallback={(to: string) => history.replaceState(null, '', to)}>
      <RequireAuth fallback={<p>Signing you in…</p>} loginOptions={{ prompt: 'login' }}>
        <Profile />
      </RequireAuth>
    </GenesysAuthProvider>
  );
}
