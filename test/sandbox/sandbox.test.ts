import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bwrapArgs } from "../../src/sandbox/bubblewrap.js";
import {
  createSandbox,
  detectBubblewrap,
  SandboxSetupError,
  SandboxUnavailableError,
  type SpawningSandbox,
} from "../../src/sandbox/index.js";
import { writeEtcDir } from "../../src/sandbox/prepare.js";
import {
  canConnectFromHost,
  countByUidOf,
  isAlive,
  makeWorkspace,
  processesMatching,
  waitUntilGone,
} from "./helpers.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap); CI installs it, so these always run there.
const hasBwrap = detectBubblewrap().available;
const projectDir = path.resolve(import.meta.dirname, "../..");

describe.skipIf(!hasBwrap)("bubblewrap sandbox", () => {
  let sandbox: SpawningSandbox;
  let dirs: { root: string; ws: string };
  const secrets = {
    DATABASE_URL: "postgres://user:pw-db-secret@127.0.0.1:5432/odavl",
    REDIS_URL: "redis://127.0.0.1:6379/0",
    GITHUB_TOKEN: "ghs_secretTokenValue123",
    PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----secret",
  };
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const [k, v] of Object.entries(secrets)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    sandbox = createSandbox({ defaults: { timeoutMs: 20_000 } });
    dirs = makeWorkspace();
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dirs.root, { recursive: true, force: true });
  });

  it("is isolated and runs node with a minimal environment", async () => {
    expect(sandbox.isolated).toBe(true);
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", "console.log(JSON.stringify({env: process.env, uid: process.getuid(), cwd: process.cwd()}))"],
      env: { EXTRA_FLAG: "1" },
    });
    expect(r.exitCode).toBe(0);
    expect(r.isolated).toBe(true);
    const out = JSON.parse(r.stdout) as { env: Record<string, string>; uid: number; cwd: string };
    expect(out.uid).not.toBe(0);
    expect(out.cwd).toBe(dirs.ws);
    expect(out.env).toMatchObject({ CI: "true", NODE_ENV: "test", HOME: "/tmp", EXTRA_FLAG: "1", TZ: "UTC" });
    for (const name of Object.keys(secrets)) expect(out.env[name]).toBeUndefined();
    expect(Object.keys(out.env).sort()).toEqual(
      ["CI", "EXTRA_FLAG", "HOME", "LANG", "NODE_ENV", "PATH", "PWD", "TMPDIR", "TZ"].sort(),
    );
  });

  it("never exposes the parent's secrets anywhere it can read", async () => {
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", "cat /proc/self/environ; cat /proc/1/environ; cat /proc/1/cmdline; env; exit 0"],
    });
    const seen = r.stdout + r.stderr;
    for (const value of Object.values(secrets)) expect(seen).not.toContain(value);
    expect(r.stderr).toMatch(/\/proc\/1\/environ: Permission denied/);
  });

  it("refuses credentials passed through options.env", async () => {
    await expect(
      sandbox.run({ cwd: dirs.ws, command: "true", args: [], env: { GITHUB_TOKEN: "x" } }),
    ).rejects.toBeInstanceOf(SandboxSetupError);
    await expect(sandbox.run({ cwd: dirs.ws, command: "true", args: [], env: { DATABASE_URL: "x" } })).rejects.toThrow(
      /credential/,
    );
  });

  it("cannot reach Postgres or Redis on the host's loopback", async () => {
    const script = `
      const net = require("net");
      const probe = (port) => new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1");
        s.setTimeout(2000, () => { s.destroy(); resolve("timeout"); });
        s.on("connect", () => { s.end(); resolve("connected"); });
        s.on("error", (e) => resolve(e.code));
      });
      Promise.all([probe(5432), probe(6379)]).then((r) => console.log(JSON.stringify(r)));
    `;
    const r = await sandbox.run({ cwd: dirs.ws, command: "node", args: ["-e", script] });
    expect(r.exitCode).toBe(0);
    const [pg, redis] = JSON.parse(r.stdout) as string[];
    expect(pg).not.toBe("connected");
    expect(redis).not.toBe("connected");
    // The same probes from the host succeed when the services run, so the failure above is the sandbox's doing.
    if (canConnectFromHost(5432)) expect(pg).toBe("ECONNREFUSED");
  });

  it("sees only its own processes and none of the host's private directories", async () => {
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: [
        "-c",
        `ls /proc | grep -c '^[0-9]'; for p in /root /home /var /run /srv /etc/shadow /etc/npmrc /work ${projectDir}; do test -e "$p" && echo "VISIBLE $p"; done; exit 0`,
      ],
    });
    expect(r.stdout).not.toContain("VISIBLE");
    expect(Number(r.stdout.split("\n")[0])).toBeLessThan(10);
  });

  it("cannot write outside its workspace", async () => {
    const marker = `odavl-escape-${process.pid}-${Date.now()}`;
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: [
        "-c",
        [
          `echo x > /tmp/${marker} && echo tmp-private`,
          `echo x > "$HOME/${marker}" && echo home-private`,
          `echo x > /root/${marker} || echo no-root`,
          `echo x > ${projectDir}/${marker} || echo no-project`,
          `echo x > ${dirs.root}/${marker} || echo no-parent`,
          `echo x > /usr/${marker} || echo no-usr`,
          `echo x > inside.txt && echo inside-ok`,
        ].join("; "),
      ],
    });
    expect(r.stdout).toContain("inside-ok");
    expect(r.stdout).toContain("no-root");
    expect(r.stdout).toContain("no-project");
    expect(r.stdout).toContain("no-parent");
    expect(r.stdout).toContain("no-usr");
    for (const p of [
      path.join(os.tmpdir(), marker),
      path.join("/tmp", marker),
      path.join(os.homedir(), marker),
      path.join(projectDir, marker),
      path.join(dirs.root, marker),
      path.join("/usr", marker),
    ]) {
      expect(existsSync(p), p).toBe(false);
    }
    expect(readFileSync(path.join(dirs.ws, "inside.txt"), "utf8")).toBe("x\n");
  });

  it("never lets a run write the workspace's .git, of the workspace or of a writable path", async () => {
    const rw = path.join(dirs.root, "rw-git");
    mkdirSync(rw, { recursive: true });
    for (const dir of [dirs.ws, rw]) {
      expect(spawnSync("git", ["init", "-q", dir]).status).toBe(0);
    }
    const config = readFileSync(path.join(dirs.ws, ".git", "config"), "utf8");
    const hooks = spawnSync("ls", [path.join(dirs.ws, ".git", "hooks")], { encoding: "utf8" }).stdout;
    const attempt = (dir: string) =>
      [
        `echo 'exit 0' > ${dir}/.git/hooks/x && echo hook-written`,
        `echo '[core] fsmonitor = evil' >> ${dir}/.git/config && echo config-written`,
        `chmod 777 ${dir}/.git && echo chmod-done`,
        `mv ${dir}/.git ${dir}/moved && echo moved`,
        `rm -rf ${dir}/.git/hooks && echo hooks-removed`,
      ].join("; ");
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", `${attempt(".")}; ${attempt(rw)}; echo ws-writable > inside-git-test.txt && echo done`],
      writablePaths: [rw],
    });
    expect(r.stdout).toBe("done\n");
    expect(r.stderr).toMatch(/Read-only file system|Device or resource busy/);
    for (const dir of [dirs.ws, rw]) {
      expect(existsSync(path.join(dir, ".git", "hooks", "x"))).toBe(false);
      expect(existsSync(path.join(dir, "moved"))).toBe(false);
      expect(readFileSync(path.join(dir, ".git", "config"), "utf8")).toBe(config);
      expect(spawnSync("ls", [path.join(dir, ".git", "hooks")], { encoding: "utf8" }).stdout).toBe(hooks);
    }
    expect(readFileSync(path.join(dirs.ws, "inside-git-test.txt"), "utf8")).toBe("ws-writable\n");
    rmSync(path.join(dirs.ws, ".git"), { recursive: true, force: true });
  });

  it("lets the next run replace what a previous run (another uid) wrote", async () => {
    const first = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", "umask 077; mkdir -p cache && echo one > cache/file"],
    });
    expect(first.exitCode).toBe(0);
    const second = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", "echo two > cache/file && echo new > cache/other && cat cache/file"],
    });
    expect(second.stderr).toBe("");
    expect(second.stdout).toBe("two\n");
  });

  it("keeps jest's and tsx's per-user caches from one run to the next with toolCaches, and only those", async () => {
    const caches = path.join(dirs.root, "caches");
    mkdirSync(caches, { recursive: true });
    // Each run has its own uid, so each looks for its caches under its own name, as jest and tsx do.
    const script = (action: string) =>
      [
        "const fs = require('node:fs'); const os = require('node:os');",
        "const jest = `${os.tmpdir()}/jest_${process.getuid().toString(36)}`;",
        "const tsx = `${os.tmpdir()}/tsx-${process.geteuid()}`;",
        action,
      ].join("\n");
    const write = script(
      [
        "process.umask(0o077);",
        "fs.mkdirSync(`${jest}/haste`, { recursive: true }); fs.writeFileSync(`${jest}/haste/map`, 'one');",
        "fs.mkdirSync(tsx, { recursive: true }); fs.writeFileSync(`${tsx}/compiled`, 'two');",
        "fs.writeFileSync('/tmp/elsewhere', 'three');",
      ].join("\n"),
    );
    const read = script(
      [
        "const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return 'missing'; } };",
        "console.log([read(`${jest}/haste/map`), read(`${tsx}/compiled`), read('/tmp/elsewhere')].join(' '));",
        "fs.writeFileSync(`${jest}/haste/map`, 'replaced');",
      ].join("\n"),
    );
    const first = await sandbox.run({ cwd: dirs.ws, command: "node", args: ["-e", write], toolCaches: caches });
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    const second = await sandbox.run({ cwd: dirs.ws, command: "node", args: ["-e", read], toolCaches: caches });
    expect(second.stderr).toBe("");
    // The caches came through (to another uid, and writable by it); the rest of /tmp was fresh.
    expect(second.stdout.trim()).toBe("one two missing");
    expect(readFileSync(path.join(caches, "jest", "haste", "map"), "utf8")).toBe("replaced");
    const without = await sandbox.run({ cwd: dirs.ws, command: "node", args: ["-e", read] });
    expect(without.stdout.trim()).toBe("missing missing missing");

    const inside = path.join(dirs.ws, "caches");
    mkdirSync(inside, { recursive: true });
    await expect(sandbox.run({ cwd: dirs.ws, command: "true", args: [], toolCaches: inside })).rejects.toThrow(
      /toolCaches may not be inside the workspace/,
    );
    rmSync(inside, { recursive: true });
  });

  it("exposes readOnlyPaths read-only and writablePaths read-write", async () => {
    const ro = path.join(dirs.root, "ro");
    const rw = path.join(dirs.root, "rw");
    mkdirSync(ro, { recursive: true });
    mkdirSync(rw, { recursive: true });
    writeFileSync(path.join(ro, "data.txt"), "readable");
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", `cat ${ro}/data.txt; echo; echo y > ${ro}/new || echo ro-denied; echo z > ${rw}/new && echo rw-ok`],
      readOnlyPaths: [ro],
      writablePaths: [rw],
    });
    expect(r.stdout).toContain("readable");
    expect(r.stdout).toContain("ro-denied");
    expect(r.stdout).toContain("rw-ok");
    expect(existsSync(path.join(ro, "new"))).toBe(false);
    expect(readFileSync(path.join(rw, "new"), "utf8")).toBe("z\n");
  });

  it("kills the whole tree at the time limit, daemons included", async () => {
    const marker = `odavl-timeout-marker-${process.pid}-${Date.now()}`;
    const script = `
      const { spawn } = require("child_process");
      const keep = ["-e", "setInterval(() => {}, 1000)", "${marker}"];
      spawn(process.execPath, keep, { stdio: "ignore" });
      spawn(process.execPath, keep, { stdio: "ignore", detached: true }).unref();
      spawn("sh", ["-c", "setsid sh -c 'sleep 600; : ${marker}' &"], { stdio: "ignore" });
      console.log("started");
      setInterval(() => {}, 1000);
    `;
    const started = Date.now();
    const running = sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", script, marker],
      limits: { timeoutMs: 2000 },
    });
    await new Promise((r) => setTimeout(r, 1200));
    expect(processesMatching(marker).length).toBeGreaterThanOrEqual(3);
    const r = await running;
    expect(r.killed).toBe("timeout");
    expect(r.stdout).toContain("started");
    expect(Date.now() - started).toBeLessThan(6000);
    expect(await waitUntilGone(marker)).toEqual([]);
  });

  it("stops a memory hog at the memory limit", async () => {
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", "const keep = []; for (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1));"],
      limits: { memoryMb: 1280, timeoutMs: 15_000 },
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.killed).toBe("memory");
  });

  it("caps the number of processes", async () => {
    const script = `
      const { spawn } = require("child_process");
      let ok = 0, failed = 0, settled = 0;
      const settle = () => { if (++settled === 60) { console.log(JSON.stringify({ ok, failed })); process.exit(0); } };
      for (let i = 0; i < 60; i++) {
        const child = spawn("sleep", ["30"], { stdio: "ignore" });
        child.on("spawn", () => { ok++; settle(); });
        child.on("error", () => { failed++; settle(); });
      }
    `;
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", script],
      limits: { maxProcesses: 20, timeoutMs: 10_000 },
    });
    expect(r.exitCode).toBe(0);
    const { ok, failed } = JSON.parse(r.stdout) as { ok: number; failed: number };
    // Node itself holds several of the 20 tasks (its threads count too).
    expect(ok).toBeLessThan(20);
    expect(failed).toBeGreaterThan(40);
  });

  it("stops a fork bomb with the process limit, and nothing survives", async () => {
    const marker = `odavl-forkbomb-${process.pid}-${Date.now()}`;
    // Bounded on purpose (at most 2^10 processes) so that even a broken limit cannot take the machine down.
    const bomb = `b() { if [ "$1" -gt 0 ]; then b $(($1-1)) & b $(($1-1)) & fi; sleep 3; }; b 9; wait # ${marker}`;
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, countByUidOf(marker));
    }, 100);
    // A parent that outlives the bomb's failures, so the run ends at the wall clock with the bomb held at the limit.
    const parent = `require("child_process").spawn("sh", ["-c", process.argv[1]], { stdio: "inherit" }); setInterval(() => {}, 1000);`;
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", parent, bomb],
      limits: { maxProcesses: 40, timeoutMs: 2500 },
    });
    clearInterval(poll);
    expect(r.killed).toBe("processes");
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(40);
    expect(await waitUntilGone(marker)).toEqual([]);
  });

  it("caps output, and stops a run that keeps flooding", async () => {
    const capped = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", "head -c 30000 /dev/zero | tr '\\0' a; echo done >&2"],
      limits: { maxOutputBytes: 10_000 },
    });
    expect(capped.exitCode).toBe(0);
    expect(capped.truncated).toBe(true);
    expect(capped.stdout.length).toBe(10_000);
    expect(capped.stderr).toBe("done\n");
    expect(capped.killed).toBeNull();

    const flood = await sandbox.run({
      cwd: dirs.ws,
      command: "yes",
      args: [],
      limits: { maxOutputBytes: 10_000 },
    });
    expect(flood.killed).toBe("output");
    expect(flood.truncated).toBe(true);
    expect(flood.stdout.length).toBe(10_000);
  });

  it("limits the size of files a run writes", async () => {
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "sh",
      args: ["-c", "head -c 3000000 /dev/zero > big.bin"],
      limits: { maxFileMb: 1 },
    });
    expect(r.killed).toBe("file-size");
    expect(statSync(path.join(dirs.ws, "big.bin")).size).toBeLessThanOrEqual(1024 * 1024);
  });

  it("stops a run when its AbortSignal fires", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const r = await sandbox.run({ cwd: dirs.ws, command: "sleep", args: ["30"], signal: controller.signal });
    expect(r.killed).toBe("aborted");
    expect(r.durationMs).toBeLessThan(5000);
  });

  it("runs at a lower CPU priority when asked, the processes the command starts too", async () => {
    // Field 19 of /proc/<pid>/stat is the nice value: of a shell the command started, and of the command itself.
    const line = "sh -c 'cut -d\" \" -f19 /proc/$$/stat'; cut -d' ' -f19 /proc/$$/stat";
    const own = os.getPriority();
    const lower = String(Math.min(19, own + 10));
    const niced = await sandbox.run({ cwd: dirs.ws, command: "sh", args: ["-c", line], niceness: 10 });
    expect(niced.stdout.trim().split("\n")).toEqual([lower, lower]);
    const plain = await sandbox.run({ cwd: dirs.ws, command: "sh", args: ["-c", line] });
    expect(plain.stdout.trim().split("\n")).toEqual([String(own), String(own)]);
  });

  it("passes stdin and reports the exit code", async () => {
    const r = await sandbox.run({ cwd: dirs.ws, command: "sh", args: ["-c", "cat; exit 3"], stdin: "hello" });
    expect(r.stdout).toBe("hello");
    expect(r.exitCode).toBe(3);
    expect(r.killed).toBeNull();
  });

  it("starts long-lived processes that talk over stdin/stdout", async () => {
    const proc = await sandbox.spawn({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", "process.stdin.on('data', (d) => process.stdout.write('echo:' + d))"],
    });
    const reply = new Promise<string>((resolve) => proc.stdout.once("data", (d: Buffer) => resolve(d.toString())));
    proc.stdin.write("ping");
    expect(await reply).toBe("echo:ping");
    proc.kill();
    const r = await proc.done;
    expect(r.killed).toBe("aborted");
  });

  it("hides a directory under /usr (the worker's tree in many images) while binding files inside it", async () => {
    const etcDir = await writeEtcDir(process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    try {
      const args = bwrapArgs({
        mode: detectBubblewrap().mode ?? "privileged",
        cwd: dirs.ws,
        readOnlyPaths: ["/usr/share/doc/git/README.md"],
        writablePaths: [],
        etcDir,
        tmpMb: 16,
        extraSystemPaths: [],
        maskDirs: ["/usr/share/doc"],
        maskFiles: [],
      });
      const r = spawnSync("bwrap", [...args, "--", "sh", "-c", "ls /usr/share/doc /usr/share/doc/git"], {
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("/usr/share/doc:\ngit\n\n/usr/share/doc/git:\nREADME.md\n");
    } finally {
      rmSync(etcDir, { recursive: true, force: true });
    }
  });

  it("rejects system directories as workspaces", async () => {
    await expect(sandbox.run({ cwd: "/", command: "true", args: [] })).rejects.toBeInstanceOf(SandboxSetupError);
    await expect(sandbox.run({ cwd: "/usr", command: "true", args: [] })).rejects.toBeInstanceOf(SandboxSetupError);
    await expect(sandbox.run({ cwd: "/nonexistent/x", command: "true", args: [] })).rejects.toThrow(/does not exist/);
  });
});

describe("without bubblewrap", () => {
  it("refuses to run unless unsandboxed runs are allowed", () => {
    expect(() => createSandbox({ bwrapPath: "/nonexistent/bwrap" })).toThrow(SandboxUnavailableError);
    expect(() => createSandbox({ bwrapPath: "/nonexistent/bwrap" })).toThrow(/apt-get install bubblewrap/);
  });

  it("bounds the memory of the whole process tree, a worker that left the process group included", async () => {
    const sandbox = createSandbox({ bwrapPath: "/nonexistent/bwrap", allowUnsandboxed: true });
    const { root, ws } = makeWorkspace();
    const marker = `odavl-tree-mem-${process.pid}-${Date.now()}`;
    const worker = `const b = Buffer.alloc(200 * 1024 * 1024, 1); setInterval(() => b[0]++, 1000);`;
    const script = `const { spawn } = require("child_process");
for (let i = 0; i < 3; i++) spawn(process.execPath, ["-e", ${JSON.stringify(worker)}, "${marker}"], { stdio: "ignore", detached: i === 0 });
setInterval(() => {}, 1000);`;
    try {
      const r = await sandbox.run({
        cwd: ws,
        command: "node",
        args: ["-e", script, marker],
        limits: { memoryMb: 450, timeoutMs: 20_000 },
      });
      expect(r.killed, r.stderr).toBe("memory");
      expect(await waitUntilGone(marker, 3000)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("runs plain processes with a scrubbed environment, a time limit and a group kill", async () => {
    process.env.GITHUB_TOKEN_FOR_TEST = "ghs_unsandboxed_secret";
    const sandbox = createSandbox({ bwrapPath: "/nonexistent/bwrap", allowUnsandboxed: true });
    expect(sandbox.isolated).toBe(false);
    const { root, ws } = makeWorkspace();
    try {
      const env = await sandbox.run({ cwd: ws, command: "sh", args: ["-c", "env"] });
      expect(env.isolated).toBe(false);
      expect(env.stdout).not.toContain("ghs_unsandboxed_secret");
      expect(env.stdout).toContain("CI=true");

      const r = await sandbox.run({
        cwd: ws,
        command: "sh",
        args: ["-c", "sleep 600 & echo $! > pids; sleep 600 & echo $! >> pids; wait"],
        limits: { timeoutMs: 800 },
      });
      expect(r.killed).toBe("timeout");
      const pids = readFileSync(path.join(ws, "pids"), "utf8").trim().split("\n").map(Number);
      expect(pids).toHaveLength(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    } finally {
      delete process.env.GITHUB_TOKEN_FOR_TEST;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
