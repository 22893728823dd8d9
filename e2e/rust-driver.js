// The Rust driver (genesys_auth_web::Auth, feature `js-class`) behind the npm package's API, so that the
// end-to-end suites check it exactly as they check the package: `cargo xtask e2e` runs them against both.
import init, { GenesysAuth } from './genesys_auth.js';

let loading;

/** Loads the wasm module (done for you by GenesysAuth.create; call it early to preload). */
export function ready() {
  loading ??= init({ module_or_path: new URL('./genesys_auth_bg.wasm', import.meta.url) });
  return loading;
}

const create = GenesysAuth.create;
GenesysAuth.create = async function (options) {
  await ready();
  return create.call(GenesysAuth, options);
};

export { GenesysAuth };
