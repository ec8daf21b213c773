// Throwaway Postgres and Redis servers for tests: started on a free loopback port, stoppable and restartable on the
// same port and data (the fault suite stops and starts them under load), removed at the end. The test command
// (test/run-tests.mjs) and the fault suite (test/faults) both use these.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class MissingServiceError extends Error {
  constructor(what, install) {
    super(
      `${what} is not installed and ${install.env} is not set.\n` +
        `  Install it (Debian/Ubuntu: ${install.apt}) or set ${install.env} to a running server.`,
    );
    this.name = "MissingServiceError";
  }
}

function which(bin) {
  const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findPgBin(name) {
  const onPath = which(name);
  if (onPath) return onPath;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort().reverse()) {
      const p = join(base, v, "bin", name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Path of a Postgres client/server binary (pg_dump, psql, …) or null. */
export function postgresBinary(name) {
  return findPgBin(name);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Resolves true once something accepts connections on the port, false after the deadline. */
async function waitForPort(port, timeoutMs = 15_000, wantOpen = true) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (open === wantOpen) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * A throwaway Postgres cluster (initdb + pg_ctl; as the postgres user when we are root).
 * Returns { url, port, stop(), start(), destroy() }: stop/start keep the port and the data.
 */
export async function startPostgres(options = {}) {
  const initdb = findPgBin("initdb");
  const pgCtl = findPgBin("pg_ctl");
  if (!initdb || !pgCtl)
    throw new MissingServiceError("PostgreSQL", { env: "DATABASE_URL", apt: "apt-get install postgresql" });
  const dir = mkdtempSync(join(tmpdir(), "odavl-pg-"));
  chmodSync(dir, 0o777);
  const port = options.port ?? (await freePort());
  const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  const run = (args) => {
    const [cmd, ...rest] = [...asUser, ...args];
    execFileSync(cmd, rest, { stdio: ["ignore", "ignore", "inherit"] });
  };
  const data = join(dir, "data");
  run([initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const maxConnections = options.maxConnections ?? 200;
  let running = false;
  const handle = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start() {
      if (running) return;
      run([
        pgCtl,
        "-D",
        data,
        "-l",
        join(dir, "log"),
        "-w",
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${maxConnections}`,
        "start",
      ]);
      running = true;
    },
    /** Stops the server at once (mode immediate: connections are cut, as in a crash). */
    stop(mode = "immediate") {
      if (!running) return;
      run([pgCtl, "-D", data, "-m", mode, "-w", "stop"]);
      running = false;
    },
    destroy() {
      try {
        handle.stop();
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
  handle.start();
  return handle;
}

/**
 * A throwaway Redis. Returns { url, port, stop(), start(), destroy() }: stop kills the server (SIGKILL), start brings
 * it back on the same port. With `persist: true` every write goes to an append-only file first (appendfsync always),
 * as a production Redis for BullMQ should be configured, so a restart keeps what was accepted; otherwise nothing is
 * kept on disk and a restart starts empty.
 */
export async function startRedis(options = {}) {
  const bin = which("redis-server");
  if (!bin) throw new MissingServiceError("Redis", { env: "REDIS_URL", apt: "apt-get install redis-server" });
  const port = options.port ?? (await freePort());
  const dir = options.persist ? mkdtempSync(join(tmpdir(), "odavl-redis-")) : null;
  const storage = dir
    ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    : ["--save", "", "--appendonly", "no"];
  let child = null;
  const handle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", ...storage], {
        stdio: "ignore",
      });
      if (!(await waitForPort(port))) throw new Error(`redis-server did not start on port ${port}`);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await exited;
      await waitForPort(port, 5_000, false);
    },
    async destroy() {
      await handle.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
