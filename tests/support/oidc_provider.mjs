// A real OpenID Connect provider for the tests (the `oidc-provider` npm package): started by
// tests/support/oidc.py as a separate process, on a free port, with one static client and the
// users of a JSON file. The file is read again at every sign-in, so a test can change a user's
// groups "at the provider" between two sign-ins.
//
//   node tests/support/oidc_provider.mjs CONFIG.json
//
// CONFIG.json: {"client": {client_id, client_secret, redirect_uris, backchannel_logout_uri},
//               "users": {"<sub>": {"preferred_username": ..., "groups": [...], ...}}}
// Prints "OIDC_PROVIDER_READY <issuer>" once it listens. Sign-in is the package's own page
// (development interactions): the login must be a user's sub; consent is given for the client.
// GET /test/logout-token?sub=S signs a back-channel logout token for S with the provider's key.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';
import * as jose from 'jose';

const configPath = process.argv[2];
const readConfig = () => JSON.parse(readFileSync(configPath, 'utf8'));
const { client } = readConfig();

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'tandem-test', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    ...client,
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomUUID()] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'department'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  async findAccount(ctx, sub) {
    const user = readConfig().users[sub];
    if (!user) return undefined;
    return { accountId: sub, async claims() { return { sub, ...readConfig().users[sub] }; } };
  },
  // A first-party client: the person is not asked to consent to Tandem.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
});

const handle = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname !== '/test/logout-token') return handle(req, res);
  const token = await new jose.SignJWT({
    sub: url.searchParams.get('sub'),
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'tandem-test', typ: 'logout+jwt' })
    .setIssuer(issuer)
    .setAudience(url.searchParams.get('aud') || client.client_id)
    .setIssuedAt()
    .setExpirationTime('2m')
    .setJti(randomUUID())
    .sign(privateKey);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(token);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`OIDC_PROVIDER_READY ${issuer}`);
