export { GenesysAuth } from './genesys_auth.js';
export type { GenesysAuthOptions, AuthState, RetryEvent, GenesysAuthError } from './genesys_auth.js';
/** Loads the wasm module (done for you by GenesysAuth.create; call it early to preload). */
export function ready(): Promise<void>;
