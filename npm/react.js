// genesys-auth/react: a provider that creates one GenesysAuth and finishes the callback, a hook that follows its
// state, and a guard for protected routes. React is the only dependency (a peer); no JSX, so no build step.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { GenesysAuth } from './index.js';

const Context = createContext(null);

/** Where the page is now, as a same-origin path to come back to after a login. */
const here = () => location.pathname + location.search + location.hash;

export function GenesysAuthProvider({ children, client, userExpand, onRedirectCallback, ...options }) {
  const [auth, setAuth] = useState(null);
  const [status, setStatus] = useState({ isLoading: true, isAuthenticated: false, expiresAt: undefined, error: null, signedOut: false });
  const [user, setUser] = useState(null);
  // Created once, also under StrictMode's double mount; the options of the first render are the ones used.
  const started = useRef(null);
  const first = useRef({ client, options, onRedirectCallback });
  useEffect(() => {
    let live = true;
    if (!started.current) {
      const { client: given, options: o, onRedirectCallback: back } = first.current;
      started.current = (given ? Promise.resolve(given) : GenesysAuth.create(o)).then(async (a) => {
        try {
          const returnTo = await a.handleRedirectCallback();
          if (returnTo !== undefined && back) back(returnTo);
          return { a, error: null };
        } catch (error) {
          return { a, error };
        }
      }, (error) => ({ a: null, error }));
    }
    let stop = () => {};
    started.current.then(({ a, error }) => {
      if (!live) return;
      const follow = (s) => setStatus((p) => ({ ...p, isAuthenticated: s.authenticated, expiresAt: s.expiresAt, signedOut: s.signedOut }));
      setAuth(a);
      setStatus({ isLoading: false, isAuthenticated: !!a && a.isAuthenticated(), expiresAt: a?.state().expiresAt, error,
        signedOut: !!a && a.isSignedOut() });
      if (a) {
        const listener = a.onTokenChange(follow);
        stop = () => a.offTokenChange(listener);
      }
    });
    return () => { live = false; stop(); };
  }, []);
  // The profile, once per sign-in.
  useEffect(() => {
    if (!auth || !status.isAuthenticated) { setUser(null); return; }
    let live = true;
    auth.currentUser(userExpand).then((u) => live && setUser(u), (error) => live && setStatus((p) => ({ ...p, error })));
    return () => { live = false; };
  }, [auth, status.isAuthenticated, userExpand]);

  const fail = useCallback((error) => { setStatus((p) => ({ ...p, error })); throw error; }, []);
  const need = useCallback(() => auth ?? fail(Object.assign(new Error('genesys-auth is still starting: wait for isLoading to be false'), { code: 'not_ready' })), [auth, fail]);
  const value = useMemo(() => ({
    ...status,
    user,
    client: auth,
    login: (o) => Promise.resolve().then(need).then((a) => a.login({ returnTo: here(), ...o })).catch(fail),
    logout: (o) => Promise.resolve().then(need).then((a) => a.logout(o)).catch(fail),
    accessToken: () => Promise.resolve().then(need).then((a) => a.accessToken()),
    fetch: (pathOrUrl, init) => Promise.resolve().then(need).then((a) => a.fetch(pathOrUrl, init)),
  }), [status, user, auth, need, fail]);
  return createElement(Context.Provider, { value }, children);
}

export function useGenesysAuth() {
  const value = useContext(Context);
  if (!value) throw new Error('useGenesysAuth() needs a <GenesysAuthProvider> above it');
  return value;
}

/**
 * Renders `children` only when signed in. Signed out, it starts the login (back here afterwards) and shows
 * `fallback` meanwhile — when the library says a login may start by itself (`shouldAutoLogin()`). After a failed
 * login, after the user signed out (in any tab, also before a reload), and inside a frame (where a login is a popup,
 * opened from a click), it shows a "Sign in" button instead; an error is in `useGenesysAuth().error`.
 */
export function RequireAuth({ children, fallback, loginOptions }) {
  const { isLoading, isAuthenticated, error, signedOut, login, client } = useGenesysAuth();
  // `signedOut` is read so that a sign-out in another tab renders this again.
  const going = !isLoading && !isAuthenticated && !error && !signedOut && !!client && client.shouldAutoLogin();
  useEffect(() => { if (going) login(loginOptions).catch(() => {}); }, [going]);
  if (isAuthenticated) return children;
  if (isLoading || going) return fallback ?? null;
  return createElement('button', { type: 'button', onClick: () => login(loginOptions).catch(() => {}) }, 'Sign in');
}
