#!/usr/bin/env node
// The test command. Starts what the tests need when it is not already there: a throwaway Postgres (initdb +
// pg_ctl) when DATABASE_URL is unset, a throwaway Redis when REDIS_URL is unset; runs vitest with any arguments
// given; stops what it started. Says exactly what to install when a binary is missing.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const started = [];

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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

function missing(what, install) {
  console.error(`odavl tests: ${what} is not installed and ${install.env} is not set.`);
  console.error(`  Install it (Debian/Ubuntu: ${install.apt}) or set ${install.env} to a running server.`);
  process.exit(2);
}

async function startPostgres() {
  const initdb = findPgBin("initdb");
  const pgCtl = findPgBin("pg_ctl");
  if (!initdb || !pgCtl) missing("PostgreSQL", { env: "DATABASE_URL", apt: "apt-get install postgresql" });
  const dir = mkdtempSync(join(tmpdir(), "odavl-pg-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  // Postgres refuses to run as root: run it as the postgres user when we are root.
  const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  const run = (args) => {
    const [cmd, ...rest] = [...asUser, ...args];
    execFileSync(cmd, rest, { stdio: ["ignore", "ignore", "inherit"] });
  };
  run([initdb, "-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  run([
    pgCtl,
    "-D",
    join(dir, "data"),
    "-l",
    join(dir, "log"),
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    "start",
  ]);
  started.push(() => {
    try {
      run([pgCtl, "-D", join(dir, "data"), "-m", "immediate", "stop"]);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  });
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

async function startRedis() {
  const bin = which("redis-server");
  if (!bin) missing("Redis", { env: "REDIS_URL", apt: "apt-get install redis-server" });
  const port = await freePort();
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  started.push(() => child.kill("SIGTERM"));
  // Wait until it answers.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return `redis://127.0.0.1:${port}`;
}

function stopAll() {
  while (started.length) {
    try {
      started.pop()();
    } catch {}
  }
}

const env = { ...process.env };
try {
  if (!env.DATABASE_URL) {
    env.DATABASE_URL = await startPostgres();
    console.log(`odavl tests: started a throwaway Postgres at ${env.DATABASE_URL}`);
  }
  if (!env.REDIS_URL) {
    env.REDIS_URL = await startRedis();
    console.log(`odavl tests: started a throwaway Redis at ${env.REDIS_URL}`);
  }
} catch (err) {
  stopAll();
  console.error(`odavl tests: could not start the test services: ${err.message}`);
  process.exit(2);
}

for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    stopAll();
    process.exit(130);
  });
const vitest = spawn(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...process.argv.slice(2)], {
  env,
  stdio: "inherit",
});
vitest.on("exit", (code, signal) => {
  stopAll();
  process.exit(code ?? (signal ? 1 : 0));
});
