/**
 * Fault suite, the memory limit of a whole run: a test suite whose workers each stay under the per-process data
 * limit but together hold more than the run may is stopped with the cause "memory" and nothing of it survives,
 * while a Node process that only reserves address space (as V8 and WebAssembly do) runs under the default limit.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, DEFAULT_LIMITS, detectBubblewrap, type SpawningSandbox } from "../../src/sandbox/index.js";
import { countByUid, makeWorkspace, processesMatching, waitUntilGone, watchRunUids } from "../sandbox/helpers.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the limit is the sandbox's. CI has it.
const hasBwrap = detectBubblewrap().available;

/** A parent that starts `n` workers, each touching `mb` MiB and then staying alive; the marker names them all. */
function workersScript(n: number, mb: number, marker: string): string {
  const worker = `const b = Buffer.alloc(${mb} * 1024 * 1024, 1); console.log("worker holds", b.length); setInterval(() => b[0]++, 1000);`;
  return `const { spawn } = require("child_process");
for (let i = 0; i < ${n}; i++) spawn(process.execPath, ["-e", ${JSON.stringify(worker)}, "${marker}"], { stdio: "inherit" });
setInterval(() => {}, 1000);`;
}

describe.skipIf(!hasBwrap)("the memory limit holds for the run as a whole", () => {
  let sandbox: SpawningSandbox;
  let dirs: { root: string; ws: string };
  beforeAll(() => {
    sandbox = createSandbox();
    dirs = makeWorkspace();
  });
  afterAll(() => rmSync(dirs.root, { recursive: true, force: true }));

  it("stops four workers of 250 MB each under a 600 MB limit, and nothing survives", async () => {
    const marker = `odavl-mem-workers-${process.pid}-${Date.now()}`;
    const watch = watchRunUids(marker);
    const started = Date.now();
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", workersScript(4, 250, marker), marker],
      limits: { memoryMb: 600, timeoutMs: 20_000 },
    });
    const seen = watch.stop();
    // Each worker alone is well under the per-process data limit (600 MiB): only the run's sum is over.
    expect(r.killed, r.stderr).toBe("memory");
    expect(r.exitCode).not.toBe(0);
    // Seen within a few samples, not at the wall clock.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(seen.uids.length).toBeGreaterThan(0);
    expect(await waitUntilGone(marker, 5000)).toEqual([]);
    expect(seen.uids.map(countByUid).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("lets the same workers run when the limit covers them", async () => {
    const marker = `odavl-mem-fits-${process.pid}-${Date.now()}`;
    const script = `${workersScript(2, 100, marker).replace("setInterval(() => {}, 1000);", "")}
setTimeout(() => process.exit(0), 2500);`;
    const r = await sandbox.run({
      cwd: dirs.ws,
      command: "node",
      args: ["-e", script, marker],
      limits: { memoryMb: 600, timeoutMs: 20_000 },
    });
    expect(r.killed, r.stderr).toBeNull();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.match(/worker holds/g)).toHaveLength(2);
    expect(await waitUntilGone(marker, 5000)).toEqual([]);
    expect(processesMatching(marker)).toEqual([]);
  });

  it("runs vitest (workers, V8 and WebAssembly reservations) under the default limit", async () => {
    // This project's own vitest, read-only, as a repository's node_modules would provide it.
    const modules = path.resolve(import.meta.dirname, "../../node_modules");
    const ws = path.join(dirs.root, "vitest-repo");
    mkdirSync(path.join(ws, "test"), { recursive: true });
    symlinkSync(modules, path.join(ws, "node_modules"));
    writeFileSync(path.join(ws, "package.json"), '{"name":"v","type":"module"}');
    for (const n of [1, 2]) {
      writeFileSync(
        path.join(ws, "test", `t${n}.test.js`),
        'import { expect, it } from "vitest";\nit("adds", () => expect(1 + 1).toBe(2));\n',
      );
    }
    for (const pool of ["forks", "threads"]) {
      const r = await sandbox.run({
        cwd: ws,
        command: "node",
        args: [path.join(modules, "vitest", "vitest.mjs"), "run", `--pool=${pool}`],
        readOnlyPaths: [modules],
        limits: { timeoutMs: 120_000 },
      });
      expect(r.killed, r.stderr).toBeNull();
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/Tests\s.*2 passed/);
    }
  });

  it("does not stop Node reserving 80 GB of address space under the default limit, and sets no address-space limit", async () => {
    const script = `const fs = require("fs");
const mems = [];
for (let i = 0; i < 10; i++) mems.push(new WebAssembly.Memory({ initial: 1, maximum: 65536 }));
const limits = fs.readFileSync("/proc/self/limits", "utf8");
const vm = /VmSize:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1];
console.log(JSON.stringify({ memories: mems.length, vmSizeGb: Number(vm) / 1024 / 1024,
  as: /Max address space\\s+(\\S+)/.exec(limits)[1], data: /Max data size\\s+(\\S+)/.exec(limits)[1] }));
// Stay a few watchdog samples long.
setTimeout(() => {}, 1500);`;
    const r = await sandbox.run({ cwd: dirs.ws, command: "node", args: ["-e", script] });
    expect(r.killed, r.stderr).toBeNull();
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { memories: number; vmSizeGb: number; as: string; data: string };
    expect(out.memories).toBe(10);
    expect(out.vmSizeGb).toBeGreaterThan(DEFAULT_LIMITS.memoryMb / 1024);
    expect(out.as).toBe("unlimited");
    expect(out.data).toBe(String(DEFAULT_LIMITS.memoryMb * 1024 * 1024));
  });
});
