// Two-step sign-in through @authql/client against a real authql; the codes
// computed by PyPI's pyotp from the URI authql returned.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";

import { SecondFactorRequiredError, createAuthClient, memoryStorage } from "../src/index.js";
import { PASSWORD, freshEmail, startServer, type Server } from "./server.js";

/** The code pyotp computes from `uri`, `offset` seconds from now. */
function codeAt(uri: string, offset: number): string {
  const python = process.env.AUTHQL_TEST_PYOTP ?? "python3";
  const at = Math.floor(Date.now() / 1000) + offset;
  return execFileSync(python, [
    "-c",
    "import pyotp, sys; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))",
    uri,
    String(at),
  ])
    .toString()
    .trim();
}

describe("two-step sign-in", () => {
  let server: Server;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("login throws SecondFactorRequiredError, and verifySecondFactor opens the session", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const email = freshEmail();
    await client.register({ name: "Ada", email, password: PASSWORD, passwordConfirmation: PASSWORD });
    const { enrollTotp } = await client.request<{ enrollTotp: { factorId: string; otpauthUri: string } }>(
      "mutation { enrollTotp { factorId otpauthUri } }",
    );
    const { confirmTotp } = await client.request<{ confirmTotp: { codes: string[] } }>(
      "mutation($input: ConfirmTotpInput!) { confirmTotp(input: $input) { codes } }",
      { input: { factorId: enrollTotp.factorId, code: codeAt(enrollTotp.otpauthUri, -30) } },
    );
    assert.equal(confirmTotp.codes.length, 10);
    await client.logout();

    let challenge: SecondFactorRequiredError | undefined;
    try {
      await client.login({ email, password: PASSWORD });
    } catch (error) {
      if (error instanceof SecondFactorRequiredError) challenge = error;
      else throw error;
    }
    assert.ok(challenge, "login asks for the second factor");
    assert.deepEqual(challenge.factors, ["TOTP", "RECOVERY_CODE"]);
    assert.equal(client.session, null, "no session before the second factor");

    const session = await client.verifySecondFactor({
      mfaToken: challenge.mfaToken,
      totpCode: codeAt(enrollTotp.otpauthUri, 30),
    });
    assert.equal(session.user.email, email);
    const claims = JSON.parse(Buffer.from(session.accessToken.split(".")[1], "base64url").toString());
    assert.equal(claims.aal, "aal2");
    assert.equal((await client.me()).email, email);
  });
});
