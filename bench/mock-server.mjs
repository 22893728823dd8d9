// oauth2-mock-server on a loopback port, for the emulator throughput comparison (run by `cargo xtask bench`).
// It signs a JWT access token and an ID token on every code grant (it has no opaque or unsigned setting); the
// closest it comes to the emulator's opaque tokens is its cheapest key, Ed25519 (`EdDSA`, the default here).
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const alg = process.argv[3] || 'EdDSA';
const server = new OAuth2Server();
await server.issuer.keys.generate(alg);
await server.start(port, '127.0.0.1');
console.log(`ready ${server.issuer.url}`);
