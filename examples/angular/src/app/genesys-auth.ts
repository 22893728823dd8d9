// genesys-auth for Angular: an injectable service over GenesysAuth (state as signals), an HttpInterceptor that adds
// the Bearer token only for the region's API origin (the library's own host rule) with one refresh-and-retry on
// 401, and a route guard. Copy this file into your app.
import {
  type EnvironmentProviders, Injectable, InjectionToken, inject, makeEnvironmentProviders, provideAppInitializer, signal,
} from '@angular/core';
import { HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { type CanActivateFn, Router } from '@angular/router';
import { catchError, from, switchMap, throwError } from 'rxjs';
import { GenesysAuth, type GenesysAuthError, type GenesysAuthOptions, type LoginOptions } from 'genesys-auth';

export const GENESYS_AUTH_OPTIONS = new InjectionToken<GenesysAuthOptions>('genesys-auth options');

@Injectable({ providedIn: 'root' })
export class GenesysAuthService {
  private readonly options = inject(GENESYS_AUTH_OPTIONS);
  private client: GenesysAuth | null = null;
  readonly isLoading = signal(true);
  readonly isAuthenticated = signal(false);
  readonly expiresAt = signal<number | null>(null);
  readonly error = signal<GenesysAuthError | null>(null);
  /** True after the user signed out (in any tab, also before a reload) until the next `login()`. */
  readonly signedOut = signal(false);
  /** Resolves once the client exists and the login callback (if this page load is one) is handled. */
  readonly ready: Promise<void> = this.start();

  private async start(): Promise<void> {
    try {
      const client = await GenesysAuth.create(this.options);
      this.client = client;
      client.onTokenChange((s) => {
        this.isAuthenticated.set(s.authenticated);
        this.expiresAt.set(s.expiresAt);
        this.signedOut.set(s.signedOut);
      });
      try {
        await client.handleRedirectCallback();
      } catch (e) {
        this.error.set(e as GenesysAuthError);
      }
      this.isAuthenticated.set(client.isAuthenticated());
      this.expiresAt.set(client.state().expiresAt);
      this.signedOut.set(client.isSignedOut());
    } catch (e) {
      this.error.set(e as GenesysAuthError);
    } finally {
      this.isLoading.set(false);
    }
  }

  private async need(): Promise<GenesysAuth> {
    await this.ready;
    if (!this.client) throw this.error() ?? new Error('genesys-auth did not start');
    return this.client;
  }

  async login(options?: LoginOptions): Promise<void> {
    try {
      await (await this.need()).login({ returnTo: location.pathname + location.search + location.hash, ...options });
    } catch (e) {
      this.error.set(e as GenesysAuthError);
      throw e;
    }
  }

  async logout(): Promise<void> {
    await (await this.need()).logout();
  }

  async accessToken(): Promise<string> {
    return (await this.need()).accessToken();
  }

  async refresh(): Promise<void> {
    return (await this.need()).refresh();
  }

  /** `url` on the region's API origin, or undefined: the token goes nowhere else. */
  apiUrl(url: string): string | undefined {
    return this.client?.apiUrl(url);
  }

  /** Whether the guard may start a login by itself now (the library decides: not after a sign-out, not in a frame). */
  shouldAutoLogin(): boolean {
    return this.client?.shouldAutoLogin() ?? false;
  }
}

/** Adds the Bearer token to requests for the region's API origin only; on a 401, one refresh and one retry. */
export const genesysAuthInterceptor: HttpInterceptorFn = (req, next) => {
  const auth = inject(GenesysAuthService);
  return from(auth.ready).pipe(switchMap(() => {
    // Relative URLs are the app's own: resolved first, so that only an absolute URL on the API origin matches.
    const url = auth.apiUrl(new URL(req.url, document.baseURI).href);
    if (!url) return next(req);
    const send = () => from(auth.accessToken()).pipe(
      switchMap((token) => next(req.clone({ url, setHeaders: { Authorization: `Bearer ${token}` } }))));
    return send().pipe(catchError((e: unknown) => (e instanceof HttpErrorResponse && e.status === 401
      ? from(auth.refresh()).pipe(switchMap(send))
      : throwError(() => e))));
  }));
};

/** A route for signed-in users: signed out, it starts the login (back to this route) when the library allows one, or
 * else (after a sign-out, inside a frame) goes to the public page. */
export const requireAuth: CanActivateFn = async (_route, state) => {
  const auth = inject(GenesysAuthService);
  const router = inject(Router);
  await auth.ready;
  if (auth.isAuthenticated()) return true;
  if (!auth.error() && auth.shouldAutoLogin()) {
    auth.login({ returnTo: `${location.pathname}${location.search}#${state.url}` }).catch(() => {});
    return false;
  }
  return router.parseUrl('/');
};

/** The service with its options; the app starts once the login callback (if any) is handled. */
export function provideGenesysAuth(options: GenesysAuthOptions): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: GENESYS_AUTH_OPTIONS, useValue: options },
    provideAppInitializer(() => inject(GenesysAuthService).ready),
  ]);
}
