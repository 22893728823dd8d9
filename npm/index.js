// The npm package `genesys-auth`: class GenesysAuth, the browser executor (executor.js, shared with the Rust API)
// over the WebAssembly session engine, where every decision is made.
import { initSync } from './genesys_auth.js';
import { Engine, Executor, PREFIX, engineOptions, read, readError, put, storageGet, text } from './executor.js';

let loading, wasm;

/** Loads the wasm module (done for you by GenesysAuth.create; call it early to preload). */
export function ready() {
  loading ??= (async () => {
    const url = new URL('./genesys_auth_bg.wasm', import.meta.url);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`genesys-auth: fetching ${url} failed: HTTP ${response.status}`);
    // Compiled while it downloads; a server that does not say application/wasm gets the slower path.
    const module = await WebAssembly.compileStreaming(response.clone())
      .catch(async () => WebAssembly.compile(await response.arrayBuffer()));
    wasm = initSync({ module });
  })();
  // A failed load (offline, a 404) may be tried again.
  loading.catch(() => (loading = undefined));
  return loading;
}

export class GenesysAuth extends Executor {
  /** Use `GenesysAuth.create(options)`. */
  constructor(engine, options) {
    if (!(engine instanceof Engine)) throw new TypeError('use GenesysAuth.create(options)');
    super(engine, options);
  }

  static async create(options) {
    await ready();
    const o = options ?? {};
    return new GenesysAuth(Engine.create(wasm, engineOptions(o)), o);
  }

  static regionFromHostParams(options) {
    const KEY = `${PREFIX}host-region`;
    const url = text(options?.url) ?? location.href;
    const query = url.split('#')[0].split('?').slice(1).join('?');
    const allow = Array.isArray(options?.allow) ? options.allow.filter(text).map((a) => ['a', a]) : [];
    const found = wasm.gaRegion(...put(wasm, [query, new URLSearchParams(allow) + '', storageGet({ area: 'own', key: KEY })]));
    if (found < 0) throw readError(wasm);
    const name = found ? read(wasm) : undefined;
    // Kept for the rest of the round trip: after a login redirect the parameters may be gone.
    if (name) try { sessionStorage.setItem(KEY, name); } catch {}
    return name;
  }
}
