// The example app in headless Chromium against a real authql: sign up,
// reload and still be signed in, a second tab shares the session, the access
// token expires and the app keeps working, signing out in one tab signs the
// other out; and "Sign in with …" through a real OpenID provider
// (tests/partners/oidc-provider), whose forms Chromium fills.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { after, before, test } from "node:test";

import puppeteer from "puppeteer-core";

const here = import.meta.dirname;
const repository = resolve(here, "..", "..", "..");
const PASSWORD = "correct horse battery staple";

function freePort() {
  return new Promise((done, fail) => {
    const probe = createNetServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/** The OpenID provider of authql's tests, with authql at `authqlBase` registered as `authql`. */
async function startProvider(authqlBase) {
  const partner = join(repository, "tests", "partners", "oidc-provider");
  assert.ok(
    existsSync(join(partner, "node_modules", "oidc-provider")),
    `run npm ci in ${partner} first: the provider test signs in there`,
  );
  const config = {
    port: 0,
    clients: [
      { client_id: "authql", client_secret: PROVIDER_SECRET, redirect_uris: [`${authqlBase}/auth/callback/acme`] },
    ],
    accounts: { grace: { email: "grace@example.com", email_verified: true, name: "Grace Hopper" } },
  };
  const child = spawn(process.execPath, [join(partner, "provider.mjs"), JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const issuer = await new Promise((done, fail) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const line = seen.split("\n").find((l) => l.startsWith("listening "));
      if (line) done(line.slice("listening ".length).trim());
    });
    child.once("exit", () => fail(new Error("the provider ended before listening")));
  });
  return {
    issuer,
    stop: async () => {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const PROVIDER_SECRET = "react-example-provider-secret";

async function startAuthql(appOrigin) {
  const binary =
    process.env.AUTHQL_BIN ??
    join(process.env.CARGO_TARGET_DIR ?? join(repository, "target"), "debug", "authql");
  assert.ok(existsSync(binary), `no authql binary at ${binary}: run cargo build first`);
  const dir = mkdtempSync(join(tmpdir(), "authql-react-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  provider = await startProvider(base);
  const child = spawn(binary, [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      RUST_LOG: "warn",
      AUTHQL_LISTEN: `127.0.0.1:${port}`,
      AUTHQL_DATABASE_URL: `sqlite://${join(dir, "authql.db")}?mode=rwc`,
      AUTHQL_ACCESS_TOKEN_TTL: "2s",
      AUTHQL_IP_CREDENTIAL_LIMIT: "0",
      AUTHQL_PUBLIC_URL: base,
      AUTHQL_REDIRECT_URLS: `${appOrigin}/`,
      AUTHQL_PROVIDERS: "acme",
      AUTHQL_PROVIDER_ACME_KIND: "oidc",
      AUTHQL_PROVIDER_ACME_ISSUER: provider.issuer,
      AUTHQL_PROVIDER_ACME_CLIENT_ID: "authql",
      AUTHQL_PROVIDER_ACME_CLIENT_SECRET: PROVIDER_SECRET,
      AUTHQL_PROVIDER_ACME_NAME: "Acme ID",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    assert.ok(i < 300 && child.exitCode === null, "authql starts");
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url: `${base}/graphql`,
    stop: async () => {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serves the built app (`dist/`) on 127.0.0.1. */
async function serveApp() {
  const root = join(here, "..", "dist");
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
  const server = createServer((request, response) => {
    const path = new URL(request.url, "http://x").pathname;
    const file = join(root, path === "/" ? "index.html" : path);
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    response.end(readFileSync(file));
  });
  const port = await freePort();
  await new Promise((done) => server.listen(port, "127.0.0.1", done));
  return { origin: `http://127.0.0.1:${port}`, stop: () => new Promise((done) => server.close(done)) };
}

let authql;
let app;
let browser;
let provider;

before(async () => {
  app = await serveApp();
  authql = await startAuthql(app.origin);
  browser = await puppeteer.launch({
    executablePath: process.env.AUTHQL_TEST_CHROMIUM ?? "chromium",
    headless: true,
    // Tabs in the background keep running, as a user's other tab does.
    args: [
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--disable-gpu",
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
    ],
    protocolTimeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await authql?.stop();
  await provider?.stop();
});

async function text(page, selector) {
  return page.$eval(selector, (element) => element.textContent ?? "");
}

test("a user signs up, reloads, opens a second tab, outlives the access token, and signing out in one tab signs the other out", async () => {
  const address = `${app.origin}/?api=${encodeURIComponent(authql.url)}`;
  const email = `ada-${Date.now()}@example.com`;
  const first = await browser.newPage();
  await first.goto(address);
  await first.waitForSelector('[data-testid="signed-out"]');
  await first.type('form[aria-label="Sign up"] input[name="name"]', "Ada Lovelace");
  await first.type('form[aria-label="Sign up"] input[name="email"]', email);
  await first.type('form[aria-label="Sign up"] input[name="password"]', PASSWORD);
  await first.click('form[aria-label="Sign up"] button[type="submit"]');
  await first.waitForSelector('[data-testid="me"]');
  assert.equal(await text(first, '[data-testid="me"]'), email);

  // A reload keeps the session.
  await first.reload();
  await first.waitForSelector('[data-testid="me"]');
  await first.waitForFunction(() => document.querySelector('[data-testid="me-from-server"]')?.textContent, {
    polling: 100,
  });
  assert.ok((await text(first, '[data-testid="me-from-server"]')).startsWith(email));

  // A second tab of the same profile is signed in too, on the same session.
  const second = await browser.newPage();
  await second.goto(address);
  await second.waitForSelector('[data-testid="me"]');
  await second.waitForFunction(() => document.querySelectorAll('[data-testid="sessions"] li').length > 0, {
    polling: 100,
  });
  assert.equal(await second.$$eval('[data-testid="sessions"] li', (items) => items.length), 1);

  // The access token expires (2 s, and the seconds of clock skew authql
  // allows): the app keeps working.
  const token = await second.evaluate(() => JSON.parse(localStorage.getItem("authql")).accessToken);
  for (let waited = 0; ; waited += 250) {
    assert.ok(waited < 15_000, "the access token expires at the server");
    const response = await fetch(authql.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    if ((await response.json()).errors?.[0]?.extensions?.reason === "expired") break;
    await new Promise((done) => setTimeout(done, 250));
  }
  await second.bringToFront();
  const before = await text(second, '[data-testid="me-from-server"]');
  const [reload] = await second.$$("xpath/.//button[text()='Reload me']");
  await reload.click();
  await second.waitForFunction(
    (previous) => {
      const now = document.querySelector('[data-testid="me-from-server"]')?.textContent;
      return now && now !== previous;
    },
    { polling: 100 },
    before,
  );
  assert.ok((await text(second, '[data-testid="me-from-server"]')).startsWith(email));
  assert.equal(await second.$('[role="alert"]'), null, "no error shown");

  // Signing out in one tab signs the other out.
  await first.bringToFront();
  const [signOut] = await first.$$("xpath/.//button[text()='Sign out']");
  await signOut.click();
  await first.waitForSelector('[data-testid="signed-out"]');
  await second.waitForSelector('[data-testid="signed-out"]', { timeout: 5_000 });
});

test("a user signs in with a provider: the button, the provider's own forms, and back signed in", async () => {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${app.origin}/?api=${encodeURIComponent(authql.url)}`);
  await page.waitForSelector('[data-testid="signed-out"]');
  // The button is drawn from signInProviders.
  const button = await page.waitForSelector("xpath/.//button[text()='Sign in with Acme ID']");
  await Promise.all([page.waitForNavigation(), button.click()]);

  // At the provider: its login form, then its consent form.
  assert.ok(page.url().startsWith(provider.issuer), page.url());
  await page.waitForSelector('input[name="login"]');
  await page.type('input[name="login"]', "grace");
  await page.type('input[name="password"]', "any password");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  await page.waitForSelector('button[type="submit"]');
  await page.click('button[type="submit"]');

  // Back in the app, through authql's callback, signed in; the one-time code
  // is gone from the address bar.
  await page.waitForSelector('[data-testid="me"]', { timeout: 15_000 });
  assert.equal(await text(page, '[data-testid="me"]'), "grace@example.com");
  const landed = new URL(page.url());
  assert.equal(landed.origin, app.origin);
  assert.equal(landed.searchParams.get("code"), null);
  assert.equal(await page.$('[role="alert"]'), null, "no error shown");
  await context.close();
});

/** The code PyPI's pyotp computes for `secret` (base32), `offset` seconds from now. */
function totpCode(secret, offset) {
  const python = process.env.AUTHQL_TEST_PYOTP ?? "python3";
  const at = Math.floor(Date.now() / 1000) + offset;
  return execFileSync(python, ["-c", "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))", secret, String(at)])
    .toString()
    .trim();
}

test("a user sets up an authenticator app from its QR code, and the next sign-in asks for its code", async () => {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${app.origin}/?api=${encodeURIComponent(authql.url)}`);
  await page.waitForSelector('[data-testid="signed-out"]');
  const email = `grace-${Date.now()}@example.com`;
  await page.type('form[aria-label="Sign up"] input[name="name"]', "Grace");
  await page.type('form[aria-label="Sign up"] input[name="email"]', email);
  await page.type('form[aria-label="Sign up"] input[name="password"]', PASSWORD);
  await page.click('form[aria-label="Sign up"] button[type="submit"]');
  await page.waitForSelector('[data-testid="me"]');

  const setUp = await page.waitForSelector("xpath/.//button[text()='Set up an authenticator app']");
  await setUp.click();
  await page.waitForSelector('[data-testid="totp-secret"]');
  const qr = await page.$eval('img[alt="QR code of the authenticator key"]', (img) => img.getAttribute("src"));
  assert.ok(qr.startsWith("data:image/png;base64,"), "the QR code is drawn");
  const secret = await text(page, '[data-testid="totp-secret"]');
  await page.type('form[aria-label="Confirm the app"] input[name="code"]', totpCode(secret, -30));
  await page.click('form[aria-label="Confirm the app"] button[type="submit"]');
  await page.waitForSelector('[data-testid="two-step-on"]');
  assert.equal(await page.$$eval('[data-testid="recovery-codes"] li', (items) => items.length), 10);

  // Signed out, the password alone leads to the second step.
  const [signOut] = await page.$$("xpath/.//button[text()='Sign out']");
  await signOut.click();
  await page.waitForSelector('[data-testid="signed-out"]');
  await page.type('form[aria-label="Sign in"] input[name="email"]', email);
  await page.type('form[aria-label="Sign in"] input[name="password"]', PASSWORD);
  await page.click('form[aria-label="Sign in"] button[type="submit"]');
  await page.waitForSelector('form[aria-label="Second step"]');
  assert.equal(await page.$('[data-testid="me"]'), null, "not signed in yet");
  await page.type('form[aria-label="Second step"] input[name="code"]', totpCode(secret, 30));
  await page.click('form[aria-label="Second step"] button[type="submit"]');
  await page.waitForSelector('[data-testid="me"]');
  assert.equal(await text(page, '[data-testid="me"]'), email);
  await context.close();
});

/** A page of its own browser context, with a virtual passkey authenticator (CTAP2, resident keys, user verification). */
async function pageWithAuthenticator() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const devtools = await page.createCDPSession();
  await devtools.send("WebAuthn.enable", { enableUI: false });
  await devtools.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      ctap2Version: "ctap2_1",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page };
}

test("a user signs up with a passkey alone and signs in with it; another adds one to a password account", async () => {
  // Passkeys need a secure context: the app at http://localhost (not an IP).
  const address = `${app.origin.replace("127.0.0.1", "localhost")}/?api=${encodeURIComponent(authql.url)}`;
  const email = `passkey-${Date.now()}@example.com`;
  {
    const { context, page } = await pageWithAuthenticator();
    await page.goto(address);
    await page.waitForSelector('[data-testid="signed-out"]');
    await page.type('form[aria-label="Sign up with a passkey"] input[name="name"]', "Grace Hopper");
    await page.type('form[aria-label="Sign up with a passkey"] input[name="email"]', email);
    await page.click('form[aria-label="Sign up with a passkey"] button[type="submit"]');
    await page.waitForSelector('[data-testid="me"]');
    assert.equal(await text(page, '[data-testid="me"]'), email);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="passkeys"] li').length === 1, {
      polling: 100,
    });
    const [signOut] = await page.$$("xpath/.//button[text()='Sign out']");
    await signOut.click();
    await page.waitForSelector('[data-testid="signed-out"]');
    const signIn = await page.waitForSelector("xpath/.//button[text()='Sign in with a passkey']");
    await signIn.click();
    await page.waitForSelector('[data-testid="me"]');
    assert.equal(await text(page, '[data-testid="me"]'), email);
    await context.close();
  }
  {
    const other = `passkey-added-${Date.now()}@example.com`;
    const { context, page } = await pageWithAuthenticator();
    await page.goto(address);
    await page.waitForSelector('[data-testid="signed-out"]');
    await page.type('form[aria-label="Sign up"] input[name="name"]', "Ada Lovelace");
    await page.type('form[aria-label="Sign up"] input[name="email"]', other);
    await page.type('form[aria-label="Sign up"] input[name="password"]', PASSWORD);
    await page.click('form[aria-label="Sign up"] button[type="submit"]');
    await page.waitForSelector('[data-testid="me"]');
    const add = await page.waitForSelector("xpath/.//button[text()='Add a passkey']");
    await add.click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="passkeys"]')?.textContent?.includes("This device"),
      { polling: 100 },
    );
    const [signOut] = await page.$$("xpath/.//button[text()='Sign out']");
    await signOut.click();
    await page.waitForSelector('[data-testid="signed-out"]');
    const signIn = await page.waitForSelector("xpath/.//button[text()='Sign in with a passkey']");
    await signIn.click();
    await page.waitForSelector('[data-testid="me"]');
    assert.equal(await text(page, '[data-testid="me"]'), other);
    await context.close();
  }
});
