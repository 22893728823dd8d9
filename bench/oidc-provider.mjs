// oidc-provider on a loopback port with refresh-token rotation, for the refresh throughput comparison (run by
// `cargo xtask bench`). Interactions are answered at once (an auto-approving login), like the emulator's
// auto-login, so the load generator can start each client's refresh chain. The same work as the emulator: plain
// OAuth requests with the scope `api` and without `openid` (no ID token), opaque access tokens (its default
// format), refresh tokens issued without a consent to `offline_access` (issueRefreshToken).
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench-client',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://localhost:3000/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  // A plain OAuth scope: oidc-provider grants nothing without one, and without `openid` it signs no ID token.
  scopes: ['api'],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async () => true,
  findAccount: async (ctx, accountId) => ({ accountId, claims: async () => ({ sub: accountId }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
const callback = provider.callback();

server.on('request', async (req, res) => {
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: 'alex', clientId: details.params.client_id });
    if (details.params.scope) grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: 'alex' }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
console.log(`ready ${issuer}`);
