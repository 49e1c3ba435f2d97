// A LOCAL STAND-IN FOR SIGN IN WITH APPLE, written for authql's tests (Apple
// itself cannot run here). It mimics what authql relies on, as Apple
// documents it: OpenID Connect discovery and keys; an authorization endpoint
// whose answer is posted back (response_mode=form_post) with the user's name
// in `user` on their first sign-in only; a token endpoint that accepts as
// client secret only an ES256 JWT with the team id as `iss`, the client id
// as `sub`, Apple's issuer as `aud`, the key id as `kid`, signed with the
// team's key; ID tokens whose `email_verified` is the string "true". It is
// not Apple and proves only that authql follows that documented behaviour.
//
//   node apple-standin.mjs '<json config>'
//
// The config: { client_id, team_id, key_id, private_key_pem (the team's
// .p8 key; its public half checks the client secret), redirect_uri,
// users: { <login>: { sub, email, first_name, last_name } } }.
// Prints `listening <issuer>` when ready.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { SignJWT, jwtVerify } from 'jose';

const config = JSON.parse(process.argv[2] ?? '{}');
const teamKey = createPublicKey(config.private_key_pem);
const { privateKey: signingKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomUUID();
const codes = new Map();
const named = new Set(); // users whose name was given already

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const readForm = (req) => new Promise((done) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => done(new URLSearchParams(body)));
});

const server = createServer();
await new Promise((done) => server.listen(config.port ?? 0, '127.0.0.1', done));
const issuer = `http://127.0.0.1:${server.address().port}`;

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/auth/authorize`,
      token_endpoint: `${issuer}/auth/token`,
      jwks_uri: `${issuer}/auth/keys`,
      response_types_supported: ['code', 'code id_token', 'id_token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'name'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'is_private_email', 'iss', 'nonce', 'nonce_supported', 'real_user_status', 'sub', 'transfer_sub'],
    });
    return;
  }
  if (url.pathname === '/auth/keys') {
    json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
    return;
  }
  if (url.pathname === '/auth/authorize' && req.method === 'GET') {
    const params = url.searchParams;
    if (params.get('client_id') !== config.client_id || params.get('redirect_uri') !== config.redirect_uri
      || params.get('response_mode') !== 'form_post') {
      res.writeHead(400).end('invalid_request');
      return;
    }
    const hidden = [...params, ['prompt', 'login']]
      .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}"/>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><form method="post" action="/auth/authorize">${hidden}
       <input name="login"><input type="password" name="password"><button type="submit">Continue</button></form>`,
    );
    return;
  }
  if (url.pathname === '/auth/authorize' && req.method === 'POST') {
    const form = await readForm(req);
    const login = form.get('login');
    const user = config.users[login];
    if (!user) {
      res.writeHead(401).end('unknown user');
      return;
    }
    const code = randomBytes(16).toString('hex');
    codes.set(code, { login, nonce: form.get('nonce'), challenge: form.get('code_challenge') });
    const fields = { code, state: form.get('state') };
    if (!named.has(login)) {
      named.add(login);
      fields.user = JSON.stringify({ name: { firstName: user.first_name, lastName: user.last_name }, email: user.email });
    }
    const inputs = Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escape(v)}"/>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><body onload="document.forms[0].submit()"><form method="post" action="${escape(config.redirect_uri)}">${inputs}</form></body>`,
    );
    return;
  }
  if (url.pathname === '/auth/token' && req.method === 'POST') {
    const form = await readForm(req);
    // Apple takes the client's credentials in the form only
    // (token_endpoint_auth_methods_supported: client_secret_post).
    const clientId = form.get('client_id');
    const secret = form.get('client_secret');
    if (req.headers.authorization) {
      json(res, 400, { error: 'invalid_client' });
      return;
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(secret ?? '', teamKey, {
        algorithms: ['ES256'],
        issuer: config.team_id,
        subject: config.client_id,
        audience: issuer,
      });
      if (protectedHeader.kid !== config.key_id || clientId !== config.client_id
        || payload.exp - payload.iat > 15777000) throw new Error('bad client');
    } catch {
      json(res, 400, { error: 'invalid_client' });
      return;
    }
    const grant = codes.get(form.get('code'));
    codes.delete(form.get('code'));
    const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
    if (!grant || (grant.challenge && grant.challenge !== challenge)) {
      json(res, 400, { error: 'invalid_grant' });
      return;
    }
    const user = config.users[grant.login];
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      email: user.email,
      email_verified: 'true',
      is_private_email: 'false',
      nonce: grant.nonce,
      nonce_supported: true,
      auth_time: now,
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setAudience(config.client_id)
      .setSubject(user.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(signingKey);
    json(res, 200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 3600, id_token: idToken });
    return;
  }
  res.writeHead(404).end();
});

process.stdout.write(`listening ${issuer}\n`);
process.on('SIGTERM', () => process.exit(0));
