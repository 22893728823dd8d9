// An Angular app with genesys-auth: a public home page, a protected profile page (route guard), the profile loaded
// with HttpClient through the interceptor, sign-in and sign-out.
import { Component, inject, provideZonelessChangeDetection, signal } from '@angular/core';
import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { bootstrapApplication } from '@angular/platform-browser';
import { Router, RouterLink, RouterOutlet, provideRouter, withHashLocation } from '@angular/router';
import { GenesysAuthService, genesysAuthInterceptor, provideGenesysAuth, requireAuth } from './app/genesys-auth';

interface User { name: string; email: string; presence?: { presenceDefinition?: { systemPresence?: string } } }

@Component({
  selector: 'app-home',
  template: `<p>Public home page.</p>`,
})
class Home {}

@Component({
  selector: 'app-profile',
  template: `
    @if (user(); as u) {
      <dl data-testid="profile">
        <dt>Name</dt><dd data-testid="name">{{ u.name }}</dd>
        <dt>Email</dt><dd>{{ u.email }}</dd>
        <dt>Presence</dt><dd>{{ u.presence?.presenceDefinition?.systemPresence }}</dd>
      </dl>
    } @else if (failure()) {
      <p role="alert" data-testid="error">{{ failure() }}</p>
    } @else {
      <p>Loading profile…</p>
    }
    <p class="muted" data-testid="region">Region: {{ region() }}</p>`,
})
class Profile {
  readonly user = signal<User | null>(null);
  readonly failure = signal<string | null>(null);
  readonly region = signal('…');
  constructor() {
    const auth = inject(GenesysAuthService);
    // A request to the app's own origin: the interceptor adds no token to it.
    inject(HttpClient).get<{ region: string }>('/demo-config.json').subscribe({ next: (c) => this.region.set(c.region) });
    // An absolute URL on the region's API: the interceptor adds the token (it adds none anywhere else).
    const url = auth.apiUrl('/api/v2/users/me?expand=presence');
    if (!url) { this.failure.set('no API URL'); return; }
    inject(HttpClient).get<User>(url).subscribe({
      next: (u) => this.user.set(u),
      error: (e) => this.failure.set(String(e?.message ?? e)),
    });
  }
}

@Component({
  selector: 'app-root',
  imports: [RouterLink, RouterOutlet],
  styles: `button { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid #2a60c8; background: #2a60c8; color: #fff; cursor: pointer; }`,
  template: `
    <main style="max-width:560px;margin:40px auto;font:15px/1.5 system-ui,sans-serif;color:#1d2433">
      <h1>genesys-auth · Angular</h1>
      <nav style="display:flex;gap:12px">
        <a routerLink="/">Home</a>
        <a routerLink="/profile" data-testid="profile-link">Profile (protected)</a>
        @if (!auth.isLoading()) {
          @if (auth.isAuthenticated()) {
            <button data-testid="logout" (click)="signOut()">Sign out</button>
          } @else {
            <button data-testid="login" (click)="signIn()">Sign in with Genesys Cloud</button>
          }
        }
      </nav>
      @if (auth.error(); as e) { <p role="alert">{{ e.code }}: {{ e.message }}</p> }
      <p data-testid="status">{{ auth.isLoading() ? 'Starting…' : auth.isAuthenticated() ? 'Signed in; token valid until ' + until() + '.' : 'Signed out.' }}</p>
      <router-outlet />
    </main>`,
})
class App {
  readonly auth = inject(GenesysAuthService);
  private readonly router = inject(Router);
  until(): string {
    const at = this.auth.expiresAt();
    return at ? new Date(at).toLocaleTimeString() : '–';
  }
  signIn(): void {
    this.auth.login({ returnTo: `${location.pathname}#/profile` }).catch(() => {});
  }
  async signOut(): Promise<void> {
    await this.router.navigateByUrl('/');
    await this.auth.logout();
  }
}

// In your app: your region and OAuth client id. The demo server writes the local emulator's here.
const settings: { region: string; clientId: string } = await fetch('/demo-config.json')
  .then((r) => r.json())
  .catch(() => ({ region: 'mypurecloud.ie', clientId: 'YOUR-CLIENT-ID' }));

bootstrapApplication(App, {
  providers: [
    provideZonelessChangeDetection(),
    provideRouter([
      { path: '', component: Home },
      { path: 'profile', component: Profile, canActivate: [requireAuth] },
    ], withHashLocation()),
    provideHttpClient(withInterceptors([genesysAuthInterceptor])),
    provideGenesysAuth({
      region: settings.region,
      clientId: settings.clientId,
      redirectUri: `${location.origin}/angular/`,
      storage: 'session',
    }),
  ],
}).catch((e) => console.error(e));
