// oauth2-mock-server on a loopback port, for the emulator throughput comparison (run by `cargo xtask bench`).
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(port, '127.0.0.1');
console.log(`ready ${server.issuer.url}`);
