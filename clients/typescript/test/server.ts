// Starts the real authql binary for a test: a fresh SQLite database, a free
// port, development mode; stopped with `stop()`.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface Server {
  url: string;
  stop(): Promise<void>;
}

/** The authql binary: `AUTHQL_BIN`, else the debug build under `CARGO_TARGET_DIR` or `target/`. */
function binary(): string {
  if (process.env.AUTHQL_BIN) return process.env.AUTHQL_BIN;
  const repository = resolve(import.meta.dirname, "..", "..", "..", "..");
  const target = process.env.CARGO_TARGET_DIR ?? join(repository, "target");
  const path = join(target, "debug", "authql");
  if (!existsSync(path)) {
    throw new Error(`no authql binary at ${path}: run \`cargo build\` first, or set AUTHQL_BIN`);
  }
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** authql with `env` added to its environment, on `port` (default: a free one). */
export async function startServer(env: Record<string, string> = {}, port?: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "authql-client-"));
  port ??= await freePort();
  const child: ChildProcess = spawn(binary(), [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      RUST_LOG: "warn",
      AUTHQL_LISTEN: `127.0.0.1:${port}`,
      AUTHQL_DATABASE_URL: `sqlite://${join(dir, "authql.db")}?mode=rwc`,
      AUTHQL_IP_CREDENTIAL_LIMIT: "0",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authql exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("authql did not start within 30 s");
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url: `${base}/graphql`,
    async stop() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `fetch` that keeps cookies, as a browser profile does. */
export function cookieFetch(): typeof fetch {
  const jar = new Map<string, string>();
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, value] = pair.split("=");
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim())) || value === "";
      if (expired) jar.delete(name.trim());
      else jar.set(name.trim(), value.trim());
    }
    return response;
  };
}

export const PASSWORD = "correct horse battery staple";

let next = 0;
export function freshEmail(): string {
  next += 1;
  return `user-${process.pid}-${Date.now()}-${next}@example.com`;
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
