// A real OpenID provider for authql's tests: panva's `oidc-provider`
// (certified by the OpenID Foundation), with its development login and
// consent forms, which the tests fill over HTTP as a browser would.
//
//   node provider.mjs '<json config>'
//
// The config: { port (0 for any), clients: [{ client_id, client_secret,
// redirect_uris }], accounts: { <login>: { email, email_verified, name } } }.
// Each start makes a new RSA signing key with a new `kid`: restarting on the
// same port is a key rotation. It prints `listening <issuer>` when ready.
//
// Test controls, outside the OpenID paths:
//   POST /test/hang      the token endpoint stops answering (a hung provider)
//   POST /test/audience  (body: a client id, or JSON { aud, azp }) ID tokens
//                        from the token endpoint are re-signed, with the
//                        provider's own key, for that audience (and
//                        authorized party): a genuine token issued to
//                        another client

import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';

import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? '{}');
const accounts = config.accounts ?? {};
let hang = false;
let audience;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: ['authql-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Only what a client asks for through `claims` goes in the ID token; the
  // rest is served at the user info endpoint, as OpenID Connect says.
  conformIdTokenClaims: true,
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
});

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'POST' && req.url === '/test/hang') {
    hang = true;
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'POST' && req.url === '/test/audience') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      audience = body;
      res.writeHead(204).end();
    });
    return;
  }
  if (hang && req.url.startsWith('/token')) {
    return; // never answered
  }
  if (audience && req.url.startsWith('/token')) {
    const end = res.end.bind(res);
    res.end = (chunk) => {
      reissue(chunk).then((text) => {
        res.setHeader('content-length', Buffer.byteLength(text));
        end(text);
      });
    };
  }
  callback(req, res);
});

// The token endpoint's answer with its ID token re-signed for `audience`.
async function reissue(chunk) {
  const answer = JSON.parse(chunk.toString());
  if (answer.id_token) {
    const header = decodeProtectedHeader(answer.id_token);
    const override = audience.startsWith('{') ? JSON.parse(audience) : { aud: audience, azp: audience };
    const claims = { ...decodeJwt(answer.id_token), ...override };
    answer.id_token = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
  }
  return JSON.stringify(answer);
}

process.stdout.write(`listening ${issuer}\n`);
process.on('SIGTERM', () => process.exit(0));
