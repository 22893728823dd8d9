// The emulated Genesys Cloud host page: frames the client app with the parameters Genesys Cloud passes.
import local from '/demo-config.js';
// Genesys Cloud passes its own origin; here the emulator stands in for it (override with ?hostOrigin=).
const hostOrigin = new URLSearchParams(location.search).get('hostOrigin') || local.region;
const q = new URLSearchParams({ gcHostOrigin: hostOrigin, gcTargetEnv: 'prod' });
document.getElementById('app').src = `/embedded/app.html?${q}`;
