// genesys-auth/vue: Vue 3 bindings over GenesysAuth (Vue ≥ 3.3 as a peer dependency).
import type { App, DefineComponent, Ref } from 'vue';
import type { GenesysAuth, GenesysAuthError, GenesysAuthOptions, LoginOptions } from './index.js';

export interface CreateGenesysAuthOptions extends Partial<GenesysAuthOptions> {
  /** An existing client to use instead of creating one from the options. */
  client?: GenesysAuth;
  /** `expand` for the profile in `user` (e.g. `"presence,organization"`). */
  userExpand?: string;
  /** Called with the return path when this page load finished a login (the library has already put it in the address bar; a router may want to know). */
  onRedirectCallback?: (returnTo: string) => void;
}

/** The plugin (`app.use(...)`) and what `useGenesysAuth()` returns: read-only reactive state and the actions. */
export interface GenesysAuthVue {
  /** `app.use(auth)`: provides it to `useGenesysAuth()` and as `$genesysAuth`. */
  install(app: App): void;
  /** True until the client is created and the callback (if any) is handled. */
  readonly isLoading: Readonly<Ref<boolean>>;
  readonly isAuthenticated: Readonly<Ref<boolean>>;
  /** When the access token expires (epoch ms), when signed in. */
  readonly expiresAt: Readonly<Ref<number | null | undefined>>;
  /** `GET /api/v2/users/me` of the signed-in user, or null. */
  readonly user: Readonly<Ref<any | null>>;
  /** The last failure: the callback's, a login's or logout's, or the profile's. */
  readonly error: Readonly<Ref<GenesysAuthError | null>>;
  /** True after `logout()` until the next `login()`: guards then show a button instead of starting a login. */
  readonly signedOut: Readonly<Ref<boolean>>;
  /** The client itself, once created. */
  readonly client: Readonly<Ref<GenesysAuth | null>>;
  /** Resolves once the client is created and the callback handled (null when creating it failed). */
  readonly ready: Promise<GenesysAuth | null>;
  /** Signs in (back at the current location unless `returnTo` says otherwise). */
  login(options?: LoginOptions): Promise<void>;
  logout(options?: { sso?: boolean; returnTo?: string }): Promise<void>;
  /** A valid access token (refreshed when close to expiry). */
  accessToken(): Promise<string>;
  /** `fetch` with the Bearer token, for the region's API only. */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<Response>;
}

/** Creates one GenesysAuth and finishes the login callback; install it with `app.use()`. */
export declare function createGenesysAuth(options: CreateGenesysAuthOptions): GenesysAuthVue;

/** The plugin's state and actions, in a component's `setup`. Throws without the plugin. */
export declare function useGenesysAuth(): GenesysAuthVue;

/** Renders its default slot only when signed in; signed out, starts the login and comes back here (slot `fallback` meanwhile). After a failed login, after the app's logout(), and inside a frame (a popup needs a click), it renders a "Sign in" button. */
export declare const RequireAuth: DefineComponent<{ loginOptions?: LoginOptions }>;
