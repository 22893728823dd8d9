// genesys-auth/sdk: the official Genesys Cloud SDK kept signed in with a GenesysAuth.
import type { GenesysAuth } from './index.js';

/** What connectSdk uses of the SDK's ApiClient (`platformClient.ApiClient.instance`): its token, and where it sends it. */
export interface SdkApiClient {
  setAccessToken(token: string | undefined): void;
  /** The SDK's configuration: `basePath` (set by `setEnvironment`) and `getConfUrl` (its gateway, set by `setGateway`). */
  config?: { basePath?: string; getConfUrl?(pathType: "api" | "login", regionUrl?: string): string };
}

/**
 * Keeps the official SDK signed in: `const disconnect = await connectSdk(auth, platformClient.ApiClient.instance)`
 * sets its token now and on every change, clears it on sign-out, and turns on the background refresh ahead of
 * expiry (the SDK never refreshes in a browser). `disconnect()` stops following and puts `keepFresh` back as it was.
 * Rejects with a `TypeError` (code `invalid_config`) for anything that is not a GenesysAuth and an ApiClient, and when the
 * SDK's API host is not the one `auth` signs in to (both named in the message): the token goes only to the library's
 * API origin, on connect and on every later token change (an SDK pointed elsewhere meanwhile gets no token).
 */
export declare function connectSdk(auth: GenesysAuth, apiClient: SdkApiClient): Promise<() => void>;
