// A LOCAL STAND-IN FOR GITHUB, written for authql's tests (GitHub itself
// cannot run here). It mimics what authql relies on, as GitHub documents it:
// the OAuth 2 web flow at /login/oauth/authorize and /login/oauth/access_token
// (client credentials in the form, PKCE S256, a refused code answered with
// HTTP 200 and {"error": …}), and the REST API's /user and /user/emails
// (a User-Agent required). It is not GitHub and proves only that authql
// follows that documented behaviour.
//
//   node github-standin.mjs '<json config>'
//
// The config: { client_id, client_secret, redirect_uri,
// users: { <login>: { id, name, emails: [{ email, primary, verified }] } } }.
// Prints `listening <base url>` when ready.

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const config = JSON.parse(process.argv[2] ?? '{}');
const codes = new Map(); // code -> { login, challenge, redirect_uri }
const tokens = new Map(); // access token -> login

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
};
const readForm = (req) => new Promise((done) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => done(new URLSearchParams(body)));
});

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://standin');
  if (url.pathname === '/login/oauth/authorize' && req.method === 'GET') {
    const params = url.searchParams;
    if (params.get('client_id') !== config.client_id || params.get('redirect_uri') !== config.redirect_uri) {
      res.writeHead(400).end('unknown client or redirect_uri');
      return;
    }
    // GitHub's sign-in and "Authorize" page, as one form.
    const hidden = [...params, ['prompt', 'login']]
      .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}"/>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><form method="post" action="/login/oauth/authorize">${hidden}
       <input name="login"><input type="password" name="password"><button type="submit">Authorize</button></form>`,
    );
    return;
  }
  if (url.pathname === '/login/oauth/authorize' && req.method === 'POST') {
    const form = await readForm(req);
    if (!config.users[form.get('login')]) {
      res.writeHead(401).end('unknown user');
      return;
    }
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      login: form.get('login'),
      challenge: form.get('code_challenge'),
      redirect_uri: form.get('redirect_uri'),
    });
    const back = new URL(form.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', form.get('state'));
    res.writeHead(302, { location: back.toString() }).end();
    return;
  }
  if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
    const form = await readForm(req);
    const grant = codes.get(form.get('code'));
    codes.delete(form.get('code'));
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (form.get('client_id') !== config.client_id || form.get('client_secret') !== config.client_secret) {
      json(res, 200, { error: 'incorrect_client_credentials' });
    } else if (!grant || grant.redirect_uri !== form.get('redirect_uri') || grant.challenge !== challenge) {
      json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    } else {
      const token = `gho_${randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.login);
      json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    return;
  }
  if (url.pathname === '/user' || url.pathname === '/user/emails') {
    if (!req.headers['user-agent']) {
      json(res, 403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' });
      return;
    }
    const login = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!login) {
      json(res, 401, { message: 'Bad credentials' });
      return;
    }
    const user = config.users[login];
    if (url.pathname === '/user') {
      json(res, 200, { id: user.id, login, name: user.name ?? null, email: null });
    } else {
      json(res, 200, user.emails.map((e) => ({ visibility: e.primary ? 'private' : null, ...e })));
    }
    return;
  }
  res.writeHead(404).end();
});

await new Promise((done) => server.listen(config.port ?? 0, '127.0.0.1', done));
process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
process.on('SIGTERM', () => process.exit(0));
