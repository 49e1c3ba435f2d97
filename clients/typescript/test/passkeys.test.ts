// The passkey methods' plumbing in Node, which has no WebAuthn: the clear
// error when there is none, and, through a stand-in `credentials`, the
// options authql sends turned into WebAuthn's binary form and the answer
// sent back and refused by the real server. The ceremonies with a real
// authenticator are the React example's browser test and the server's
// (tests/api/passkeys.rs).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AuthqlError, type CredentialsLike, createAuthClient, memoryStorage } from "../src/index.js";
import { freshEmail, startServer, type Server } from "./server.js";

describe("passkeys", () => {
  let server: Server;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("without WebAuthn the methods say so before calling the server", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    await assert.rejects(client.signInWithPasskey(), /passkeys need a browser with WebAuthn/);
    await assert.rejects(
      client.signUpWithPasskey({ name: "Ada", email: freshEmail() }),
      /passkeys need a browser with WebAuthn/,
    );
  });

  test("the options reach the authenticator in binary form and a bad answer is refused with its reason", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const seen: Record<string, unknown>[] = [];
    const credentials: CredentialsLike = {
      async create() {
        throw new Error("not used");
      },
      async get(options) {
        seen.push(options.publicKey as Record<string, unknown>);
        // An answer whose parts are not a credential's.
        const bytes = new Uint8Array([1, 2, 3]).buffer;
        return {
          id: "AQID",
          rawId: bytes,
          type: "public-key",
          response: { clientDataJSON: bytes, authenticatorData: bytes, signature: bytes, userHandle: null },
        };
      },
    };
    await assert.rejects(client.signInWithPasskey({ email: freshEmail() }, { credentials }), (error: unknown) => {
      assert.ok(error instanceof AuthqlError, String(error));
      assert.equal(error.code, "INVALID_PASSKEY");
      assert.equal(error.reason, "unknown_credential");
      return true;
    });
    const [options] = seen;
    assert.ok(options.challenge instanceof Uint8Array, "the challenge is bytes");
    assert.ok((options.challenge as Uint8Array).length >= 32);
    const allowed = options.allowCredentials as { id: unknown; type: string }[];
    assert.ok(allowed.length > 0, "an address is offered credentials (decoys here)");
    for (const credential of allowed) {
      assert.ok(credential.id instanceof Uint8Array);
      assert.equal(credential.type, "public-key");
    }
    assert.equal(options.userVerification, "required");
    assert.equal(client.session, null);
  });
});
