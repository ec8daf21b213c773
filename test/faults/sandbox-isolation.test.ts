/**
 * Fault suite, the sandbox's isolation: a repository whose tests try to reach the worker's Postgres and Redis (the
 * ports of DATABASE_URL and REDIS_URL), a server on the host's loopback, the host's other addresses and DNS; to read
 * the worker's secrets (its environment, /proc/1/environ, the home directory, a secrets file and .env in the app's
 * directory); and to write outside its workspace. Each probe is first run on the host, where it succeeds, then in
 * the sandbox directly (every probe contained) and through a whole cycle (the tests pass only when every probe was
 * contained, and nothing outside the workspace changed).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, detectBubblewrap } from "../../src/sandbox/index.js";
import {
  createSentinel,
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the isolation is bubblewrap's. CI has it.
const hasBwrap = detectBubblewrap().available;
const projectDir = path.resolve(import.meta.dirname, "../..");

const SECRETS: Record<string, string> = {
  DATABASE_URL: process.env.DATABASE_URL ?? "postgres://odavl:pw-fault-db-secret@127.0.0.1:5432/odavl",
  REDIS_URL: process.env.REDIS_URL ?? "redis://:pw-fault-redis-secret@127.0.0.1:6379/0",
  GITHUB_TOKEN: "ghs_faultSuiteSecretToken0123456789",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----fault-suite-secret",
  WEBHOOK_SECRET: "fault-suite-webhook-secret",
  ODAVL_FAULT_CANARY: "fault-suite-canary-in-plain-sight",
};

interface ProbeConfig {
  ports: Record<string, number>;
  hostAddresses: string[];
  secretValues: string[];
  secretFiles: string[];
  writeTargets: string[];
  /** Written too, but a success there is no escape: the sandbox's /tmp is its own. */
  privateTargets: string[];
  marker: string;
}

/**
 * The repository's test: every probe, a JSON report on stdout, exit 0 only when all were contained. With
 * PROBE_READ_ONLY set (the host run) it does not write.
 */
function probeScript(config: ProbeConfig): string {
  return `const fs = require("fs");
const net = require("net");
const dns = require("dns");
const dgram = require("dgram");
const config = ${JSON.stringify(config)};
const report = { connect: {}, dns: {}, udp: null, env: Object.keys(process.env).sort(), leaks: [], read: {}, wrote: {} };
const connect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  s.setTimeout(3000, () => { s.destroy(); resolve("timeout"); });
  s.on("connect", () => { s.destroy(); resolve("connected"); });
  s.on("error", (e) => resolve(e.code || String(e)));
});
const withTimeout = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r("timeout"), 5000))]);
(async () => {
  for (const [name, port] of Object.entries(config.ports)) {
    report.connect[name] = await connect("127.0.0.1", port);
    for (const address of config.hostAddresses) report.connect[name + "@" + address] = await connect(address, port);
  }
  report.dns.lookup = await withTimeout(dns.promises.lookup("example.com").then((a) => "resolved " + a.address, (e) => e.code));
  report.dns.resolve = await withTimeout(dns.promises.resolve4("example.com").then((a) => "resolved " + a, (e) => e.code));
  report.udp = await withTimeout(new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.on("error", (e) => { s.close(); resolve(e.code); });
    s.send(Buffer.from("x"), 53, "8.8.8.8", (e) => { s.close(); resolve(e ? e.code : "sent"); });
  }));
  // Everything readable that could carry a secret: the environment, every visible process's environ and
  // command line, and the secret files.
  const haystacks = [JSON.stringify(process.env)];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
    for (const f of ["environ", "cmdline"]) {
      try { haystacks.push(fs.readFileSync("/proc/" + pid + "/" + f, "latin1")); } catch {}
    }
  }
  try { report.read["/proc/1/environ"] = fs.readFileSync("/proc/1/environ", "latin1").length >= 0 ? "read" : ""; }
  catch (e) { report.read["/proc/1/environ"] = e.code; }
  for (const file of config.secretFiles) {
    try { haystacks.push(fs.readFileSync(file, "latin1")); report.read[file] = "read"; }
    catch (e) { report.read[file] = e.code; }
  }
  for (const value of config.secretValues) if (haystacks.some((h) => h.includes(value))) report.leaks.push(value);
  if (!process.env.PROBE_READ_ONLY) {
    for (const target of [...config.writeTargets, ...config.privateTargets]) {
      try { fs.writeFileSync(target, "written by " + config.marker); report.wrote[target] = "written"; }
      catch (e) { report.wrote[target] = e.code; }
    }
  }
  const escaped =
    Object.values(report.connect).some((r) => r === "connected") ||
    Object.values(report.dns).some((r) => String(r).startsWith("resolved")) ||
    report.udp === "sent" ||
    report.leaks.length > 0 ||
    Object.entries(report.read).some(([f, r]) => r === "read" && f !== "/proc/1/environ") ||
    config.writeTargets.some((t) => report.wrote[t] === "written");
  console.log(JSON.stringify(report));
  process.exit(escaped ? 1 : 0);
})();
`;
}

function portOf(url: string | undefined): number | null {
  if (!url) return null;
  const port = new URL(url).port;
  return port ? Number(port) : null;
}

/** The host's own non-loopback IPv4 addresses (reachable from the host, not from a network namespace). */
function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === "IPv4" && !i.internal)
    .map((i) => (i as os.NetworkInterfaceInfo).address)
    .slice(0, 2);
}

describe.skipIf(!hasBwrap)("a repository's tests cannot reach, read or write anything of the host", () => {
  const saved: Record<string, string | undefined> = {};
  const marker = `odavl-fault-isolation-${process.pid}-${Date.now()}`;
  const secretFile = path.join(projectDir, `.odavl-fault-secrets-${process.pid}`);
  let server: Server;
  let serverPort: number;
  let dir: string;
  let config: ProbeConfig;
  let sentinel: ReturnType<typeof createSentinel>;

  beforeAll(async () => {
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    server = createServer((socket) => socket.end("hello from the host\n"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    serverPort = (server.address() as { port: number }).port;
    writeFileSync(secretFile, `GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}\n`, { mode: 0o644 });
    sentinel = createSentinel();
    const ports: Record<string, number> = { hostServer: serverPort };
    const pg = portOf(process.env.DATABASE_URL);
    const redis = portOf(process.env.REDIS_URL);
    if (pg) ports.postgres = pg;
    if (redis) ports.redis = redis;
    config = {
      ports,
      hostAddresses: hostAddresses(),
      secretValues: Object.values(SECRETS),
      secretFiles: [
        secretFile,
        path.join(projectDir, ".env"),
        path.join(projectDir, "package.json"),
        path.join(os.homedir(), ".bashrc"),
        path.join(os.homedir(), ".npmrc"),
        path.join(sentinel.dir, "secret.txt"),
        "/etc/shadow",
      ],
      writeTargets: [
        path.join(sentinel.dir, "pwned"),
        path.join(sentinel.dir, "secret.txt"),
        path.join(os.homedir(), marker),
        path.join(projectDir, marker),
      ],
      privateTargets: [path.join(os.tmpdir(), marker)],
      marker,
    };
    dir = path.join(tempDir(), "probe");
    writeRepo(dir, smallProject(`node test/probe.js ${marker}`, { "test/probe.js": probeScript(config) }));
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(secretFile, { force: true });
    for (const target of config?.writeTargets ?? [])
      if (!target.startsWith(sentinel.dir)) rmSync(target, { force: true });
    await new Promise((resolve) => server?.close(resolve));
    removeTempDirs();
  });

  it("on the host, the same probes reach the services and read the secrets (they can tell)", () => {
    let stdout: string;
    try {
      stdout = execFileSync(process.execPath, ["test/probe.js", marker], {
        cwd: dir,
        env: { ...process.env, PROBE_READ_ONLY: "1" },
        encoding: "utf8",
        timeout: 60_000,
      });
      throw new Error(`the probe found nothing to reach on the host: ${stdout}`);
    } catch (err) {
      stdout = (err as { stdout?: string }).stdout ?? "";
    }
    const report = JSON.parse(stdout) as {
      connect: Record<string, string>;
      read: Record<string, string>;
      leaks: string[];
    };
    expect(report.connect.hostServer).toBe("connected");
    if (config.ports.postgres) expect(report.connect.postgres).toBe("connected");
    if (config.ports.redis) expect(report.connect.redis).toBe("connected");
    expect(report.read[secretFile]).toBe("read");
    expect(report.leaks).toContain(SECRETS.GITHUB_TOKEN);
    expect(report.leaks).toContain(SECRETS.ODAVL_FAULT_CANARY);
  });

  it("in the sandbox, every probe is contained", async () => {
    const before = sentinel.snapshot();
    const secretBefore = readFileSync(secretFile, "utf8");
    const sandbox = createSandbox({ defaults: { timeoutMs: 120_000 } });
    const r = await sandbox.run({ cwd: dir, command: "node", args: ["test/probe.js", marker] });
    const report = JSON.parse(r.stdout) as {
      connect: Record<string, string>;
      dns: Record<string, string>;
      udp: string;
      env: string[];
      leaks: string[];
      read: Record<string, string>;
      wrote: Record<string, string>;
    };
    // No service of the host answers: nothing listens on the sandbox's own loopback, no other address is routed.
    for (const [name, result] of Object.entries(report.connect)) expect(result, name).not.toBe("connected");
    expect(report.connect.hostServer).toBe("ECONNREFUSED");
    if (config.ports.postgres) expect(report.connect.postgres).toBe("ECONNREFUSED");
    if (config.ports.redis) expect(report.connect.redis).toBe("ECONNREFUSED");
    for (const result of Object.values(report.dns)) expect(String(result)).not.toMatch(/^resolved/);
    expect(report.udp).not.toBe("sent");
    // Only the allow-listed environment, no secret anywhere readable.
    expect(report.env).toEqual(["CI", "HOME", "LANG", "NODE_ENV", "PATH", "PWD", "TMPDIR", "TZ"]);
    expect(report.leaks).toEqual([]);
    expect(report.read["/proc/1/environ"]).not.toBe("read");
    for (const file of config.secretFiles) expect(report.read[file], file).toBe("ENOENT");
    for (const target of config.writeTargets) expect(report.wrote[target], target).not.toBe("written");
    // The private /tmp takes the write that names the host's /tmp.
    for (const target of config.privateTargets) expect(report.wrote[target], target).toBe("written");
    expect(r.exitCode).toBe(0);
    expect(sentinel.snapshot()).toEqual(before);
    expect(readFileSync(secretFile, "utf8")).toBe(secretBefore);
    for (const target of [...config.writeTargets.slice(2), ...config.privateTargets]) {
      expect(existsSync(target), target).toBe(false);
    }
  });

  it("through a whole cycle the tests pass (every probe contained) and nothing outside the workspace changed", async () => {
    const before = sentinel.snapshot();
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }),
      engineDeps(null, undefined, { testTimeoutMs: 120_000 }),
    );
    expect(summary.status, summary.error ?? "").toBe("completed");
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass" });
    expect(sentinel.snapshot()).toEqual(before);
    for (const target of [...config.writeTargets.slice(2), ...config.privateTargets]) {
      expect(existsSync(target), target).toBe(false);
    }
  });
});
