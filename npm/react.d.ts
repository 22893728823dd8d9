// genesys-auth/react: React bindings over GenesysAuth (React ≥ 18 as a peer dependency).
import type { ReactElement, ReactNode } from 'react';
import type { GenesysAuth, GenesysAuthOptions, GenesysAuthError, LoginOptions } from './index.js';

export interface GenesysAuthProviderProps extends Partial<GenesysAuthOptions> {
  children?: ReactNode;
  /** An existing client to use instead of creating one from the options. */
  client?: GenesysAuth;
  /** `expand` for the profile in `user` (e.g. `"presence,organization"`). */
  userExpand?: string;
  /** Called with the return path when this page load finished a login (the library has already put it in the address bar; a router may want to know). */
  onRedirectCallback?: (returnTo: string) => void;
}

/** Creates one GenesysAuth (once, with the options of the first render), finishes the login callback, and provides the state below it. */
export declare function GenesysAuthProvider(props: GenesysAuthProviderProps): ReactElement;

export interface GenesysAuthContext {
  /** True until the client is created and the callback (if any) is handled. */
  isLoading: boolean;
  isAuthenticated: boolean;
  /** When the access token expires (epoch ms), when signed in. */
  expiresAt: number | null | undefined;
  /** `GET /api/v2/users/me` of the signed-in user, or null. */
  user: any | null;
  /** The last failure: the callback's, a login's or logout's, or the profile's. */
  error: GenesysAuthError | null;
  /** True after `logout()` until the next `login()`: guards then show a button instead of starting a login. */
  signedOut: boolean;
  /** The client itself, once created. */
  client: GenesysAuth | null;
  /** Signs in (back at the current location unless `returnTo` says otherwise). */
  login(options?: LoginOptions): Promise<void>;
  logout(options?: { sso?: boolean; returnTo?: string }): Promise<void>;
  /** A valid access token (refreshed when close to expiry). */
  accessToken(): Promise<string>;
  /** `fetch` with the Bearer token, for the region's API only. */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<Response>;
}

/** The state and actions of the nearest GenesysAuthProvider. Throws outside one. */
export declare function useGenesysAuth(): GenesysAuthContext;

export interface RequireAuthProps {
  children?: ReactNode;
  /** Shown while loading and while the login starts. */
  fallback?: ReactNode;
  /** Options for the login this guard starts. */
  loginOptions?: LoginOptions;
}

/** Renders its children only when signed in; signed out, starts the login and comes back here. After a failed login, after the app's logout(), and inside a frame (a popup needs a click), it shows a "Sign in" button. */
export declare function RequireAuth(props: RequireAuthProps): ReactElement | null;
