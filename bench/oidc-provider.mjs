// oidc-provider on a loopback port with refresh-token rotation, for the refresh throughput comparison (run by
// `cargo xtask bench`). Interactions are answered at once (an auto-approving login), like the emulator's
// auto-login, so the load generator can start each client's refresh chain.
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
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: 'alex' }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
console.log(`ready ${issuer}`);
