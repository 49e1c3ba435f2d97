// A browser with a passkey authenticator, for authql's passkey tests.
//
// Starts Debian's Chromium (headless, through puppeteer-core), serves a
// blank page at http://localhost:<port>/ (a frontend's origin: passkeys
// need a secure context, which localhost is), and adds a virtual
// authenticator through the DevTools protocol's WebAuthn domain: CTAP2,
// internal transport, resident keys, user verification. The WebAuthn
// ceremonies run in the page with the browser's own
// `navigator.credentials`, exactly as a frontend calls them.
//
// Protocol: one JSON command per line on stdin, one JSON answer per line on
// stdout (`{"ok":true,"value":…}` or `{"ok":false,"error":"Name: message"}`).
// The first line out is `{"ready":true,"origin":"http://localhost:…"}`.
//
//   {"cmd":"create","options":{…}}   navigator.credentials.create with
//                                    PublicKeyCredentialCreationOptionsJSON;
//                                    answers credential.toJSON()
//   {"cmd":"get","options":{…}}      navigator.credentials.get likewise
//   {"cmd":"override","bits":{…}}    WebAuthn.setResponseOverrideBits
//                                    (isBogusSignature, isBadUV, isBadUP)
//   {"cmd":"verified","value":bool}  WebAuthn.setUserVerified
//   {"cmd":"credentials"}            WebAuthn.getCredentials
//   {"cmd":"quit"}
//
// Usage: node authenticator.mjs <chromium>

import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

import puppeteer from "puppeteer-core";

const chromium = process.argv[2] || process.env.AUTHQL_TEST_CHROMIUM || "chromium";

const page_html = "<!doctype html><html><head><title>authql passkey test</title></head><body></body></html>";
const server = createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(page_html);
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const origin = `http://localhost:${server.address().port}`;

const profile = mkdtempSync(join(tmpdir(), "authql-authenticator-"));
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: profile,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
  ],
});
const page = await browser.newPage();
await page.goto(`${origin}/`);
const devtools = await page.createCDPSession();
await devtools.send("WebAuthn.enable", { enableUI: false });
const { authenticatorId } = await devtools.send("WebAuthn.addVirtualAuthenticator", {
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

async function shutdown() {
  await browser.close().catch(() => {});
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

async function run(command) {
  switch (command.cmd) {
    case "create":
      return page.evaluate(async (options) => {
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
        const credential = await navigator.credentials.create({ publicKey });
        return credential.toJSON();
      }, command.options);
    case "get":
      return page.evaluate(async (options) => {
        const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
        const credential = await navigator.credentials.get({ publicKey });
        return credential.toJSON();
      }, command.options);
    case "override":
      return devtools.send("WebAuthn.setResponseOverrideBits", {
        authenticatorId,
        isBogusSignature: false,
        isBadUV: false,
        isBadUP: false,
        ...command.bits,
      });
    case "verified":
      return devtools.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: command.value });
    case "credentials":
      return (await devtools.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

process.stdout.write(`${JSON.stringify({ ready: true, origin })}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.cmd === "quit") break;
  let answer;
  try {
    answer = { ok: true, value: (await run(command)) ?? null };
  } catch (error) {
    answer = { ok: false, error: `${error.name}: ${error.message}` };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await shutdown();
process.exit(0);
