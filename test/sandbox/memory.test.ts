/**
 * The cgroup path of the run-wide memory limit, where this machine cannot offer one (no delegated cgroup v2 memory
 * controller): a plain directory stands in for the kernel's files, so what is checked is our side of the contract
 * (the run's first process enters before it starts anything, memory.max and memory.swap.max are written, an
 * oom_kill in memory.events makes a failed run's cause "memory", the directory is removed afterwards). And the
 * watchdog's look at /proc, where there is no cgroup, shared by the runs under way.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveLimits } from "../../src/sandbox/limits.js";
import { createRunCgroup, sampleMemory, WATCHDOG_INTERVAL_MS } from "../../src/sandbox/memory.js";
import { launch } from "../../src/sandbox/supervise.js";

const parent = mkdtempSync(path.join(os.tmpdir(), "odavl-fake-cgroup-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

function spec(file: string, args: string[], cgroup: ReturnType<typeof createRunCgroup>) {
  const wrapped = cgroup.wrap(file, args);
  return {
    ...wrapped,
    env: { PATH: "/usr/bin:/bin" },
    hostCwd: "/",
    isolated: false,
    limits: resolveLimits({ memoryMb: 100, timeoutMs: 10_000 }),
    stdin: "ignore" as const,
    collectStdout: true,
    memory: { cgroup },
  };
}

describe("a run's own cgroup", () => {
  it("is entered by the run's first process and set to the limit, without swap", async () => {
    const cgroup = createRunCgroup(parent, 100 * 1024 * 1024);
    expect(readFileSync(path.join(cgroup.dir, "memory.max"), "utf8")).toBe(String(100 * 1024 * 1024));
    expect(readFileSync(path.join(cgroup.dir, "memory.swap.max"), "utf8")).toBe("0");
    const launched = await launch(spec("sh", ["-c", "echo $$"], cgroup));
    const result = await launched.done;
    expect(result.exitCode).toBe(0);
    // exec keeps the pid: the process that wrote itself into cgroup.procs is the command.
    expect(readFileSync(path.join(cgroup.dir, "cgroup.procs"), "utf8").trim()).toBe(result.stdout.trim());
    expect(result.killed).toBeNull();
  });

  it("reports a failed run the kernel OOM-killed in it as stopped for memory, a run that survived one as not", async () => {
    const killed = createRunCgroup(parent, 100 * 1024 * 1024);
    writeFileSync(path.join(killed.dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    const failed = await (await launch(spec("sh", ["-c", "exit 137"], killed))).done;
    expect(failed.killed).toBe("memory");

    const survived = createRunCgroup(parent, 100 * 1024 * 1024);
    writeFileSync(path.join(survived.dir, "memory.events"), "oom 1\noom_kill 1\n");
    const passed = await (await launch(spec("true", [], survived))).done;
    expect(passed.killed).toBeNull();

    const clean = createRunCgroup(parent, 100 * 1024 * 1024);
    writeFileSync(path.join(clean.dir, "memory.events"), "oom 0\noom_kill 0\n");
    expect((await (await launch(spec("sh", ["-c", "exit 1"], clean))).done).killed).toBeNull();
  });
});

describe("the watchdog's look at the processes", () => {
  it("is shared by samples taken within half an interval, and taken again after that", async () => {
    const t0 = performance.now();
    const before = sampleMemory({ kind: "tree", rootPid: process.pid }, t0);
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      const pid = child.pid as number;
      // Within the window: the same look, which predates the child.
      const shared = sampleMemory({ kind: "tree", rootPid: process.pid }, t0 + WATCHDOG_INTERVAL_MS / 4);
      expect(shared.pids).toEqual(before.pids);
      expect(shared.pids).not.toContain(pid);
      // Past it: a new look, which finds the child (under this process, and by its uid).
      const fresh = sampleMemory({ kind: "tree", rootPid: process.pid }, t0 + WATCHDOG_INTERVAL_MS);
      expect(fresh.pids).toContain(pid);
      const uid = process.getuid?.() ?? 0;
      expect(sampleMemory({ kind: "uid", uid }, t0 + WATCHDOG_INTERVAL_MS).pids).toContain(pid);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
