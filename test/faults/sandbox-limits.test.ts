/**
 * Fault suite, the sandbox's limits: a repository's tests that fork-bomb, allocate 4 GB, write a 2 GB file or
 * never end are each stopped by their own limit (the production defaults: 256 processes, 4096 MiB of memory,
 * 256 MiB per file; a wall clock), nothing of the run survives it, the candidate or the baseline is
 * recorded with the cause and counted by cause as the worker counts it, and the process that ran the cycle goes
 * on running cycles.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoRepo } from "../../src/cli/demo-repo.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import { createPrometheus } from "../../src/observability/prometheus.js";
import { countingSandbox } from "../../src/queue/deps.js";
import { DEFAULT_LIMITS, detectBubblewrap } from "../../src/sandbox/index.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  storedResults,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";
import { countByUid, watchRunUids } from "../sandbox/helpers.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the limits are the sandbox's. CI has it.
const hasBwrap = detectBubblewrap().available;

/** Wall clock of one test run: long enough for npm and a baseline, short enough for the endless loop. */
const TEST_TIMEOUT_MS = 20_000;

/**
 * test/run.js: passes while src/a.ts still says `let a` (the baseline), and runs `hostile` once the candidate
 * (prefer-const) changed it, unless `always` is set. The marker on its command line lets the host find the run's
 * processes and their uid.
 */
function hostileRepo(dir: string, marker: string, hostile: string, always = false): void {
  const run = `const fs = require("fs");
if (${always ? "false" : "true"} && fs.readFileSync("src/a.ts", "utf8").includes("let a")) {
  console.log("baseline: nothing hostile");
  process.exit(0);
}
// Half a second before the hostile part: a limit can end it within milliseconds (an allocation refused at once),
// and the process watcher, which samples every 100 ms, must see the run's uid to check that nothing of it survives.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
${hostile}
`;
  writeRepo(dir, smallProject(`node test/run.js ${marker}`, { "test/run.js": run }));
}

const CASES = [
  {
    name: "a fork bomb",
    cause: "processes",
    always: true,
    // Bounded (at most 2^10 shells) so that a broken limit cannot take the machine down; a parent that outlives
    // the bomb's failures keeps the run going until the wall clock, with the bomb held at the limit.
    hostile: `const bomb = 'b() { if [ "$1" -gt 0 ]; then b $(($1-1)) & b $(($1-1)) & fi; sleep 5; }; b 9; wait';
require("child_process").spawn("sh", ["-c", bomb], { stdio: "inherit" });
setInterval(() => {}, 1000);`,
  },
  {
    name: "a 4 GB allocation",
    cause: "memory",
    always: false,
    // One allocation of 4 GiB, then a write to each of its pages.
    hostile: `const big = new Uint8Array(new ArrayBuffer(4 * 1024 ** 3));
for (let i = 0; i < big.length; i += 4096) big[i] = 1;
console.log("allocated", big.length);`,
  },
  {
    name: "a 2 GB file",
    cause: "file-size",
    always: false,
    hostile: `const fd = fs.openSync("big.bin", "w");
const chunk = Buffer.alloc(1024 * 1024, 1);
for (let i = 0; i < 2048; i++) fs.writeSync(fd, chunk);
fs.closeSync(fd);
console.log("wrote", fs.statSync("big.bin").size);`,
  },
  {
    name: "an endless loop",
    cause: "timeout",
    always: false,
    hostile: "for (;;) {}",
  },
] as const;

describe.skipIf(!hasBwrap)("hostile tests are stopped by the sandbox's limits", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb("pglite");
    const repo = await upsertRepository(db.db, { owner: "test", name: "repo", mode: "shadow" });
    await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });
  });
  afterAll(async () => {
    await db?.cleanup();
    removeTempDirs();
  });

  it("runs with the production limits", () => {
    expect(DEFAULT_LIMITS).toMatchObject({ memoryMb: 4096, maxProcesses: 256, maxFileMb: 256 });
  });

  for (const c of CASES) {
    it(`${c.name}: stopped by the ${c.cause} limit, nothing survives, the cause is recorded`, async () => {
      const marker = `odavl-fault-${c.cause}-${process.pid}-${Date.now()}`;
      const dir = join(tempDir(), "hostile");
      hostileRepo(dir, marker, c.hostile, c.always);
      const prometheus = createPrometheus({ role: "worker", defaults: false });
      const deps = engineDeps(db.db, undefined, {
        testTimeoutMs: TEST_TIMEOUT_MS,
        // Counted as the worker counts them.
        wrapSandbox: (sandbox) => countingSandbox(sandbox, prometheus),
      });
      const watch = watchRunUids(marker);
      const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), deps);
      const seen = watch.stop();

      expect(summary.status, summary.error ?? "").toBe("completed");
      expect(summary.results).toHaveLength(1);
      const result = summary.results[0];
      const stopped = `stopped by the sandbox: ${c.cause}`;
      if (c.always) {
        // At baseline: the tests count as not passing, with the cause, and the candidate's tests are unknown.
        expect(summary.facts?.testsPassing).toBe("fail");
        expect(result?.outcome?.tests).toBe("unknown");
        expect(result?.outcome?.testsReason).toContain(stopped);
      } else {
        expect(summary.facts?.testsPassing).toBe("pass");
        expect(result?.outcome).toMatchObject({ success: false, tests: "fail" });
        // The reason names the cause first, then the limit it hit (e.g. "timeout (limit 20 s)").
        expect(result?.outcome?.testsReason).toMatch(new RegExp(`^${stopped}( \\(limit [^)]+\\))?$`));
        expect(result?.outcome?.failureCause).toContain(stopped);
      }
      const stored = await storedResults(db.db, summary.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.tests_reason).toContain(stopped);
      // And counted, by cause, as a scrape shows it.
      expect(await prometheus.registry.metrics()).toMatch(
        new RegExp(`^odavl_sandbox_kills_total\\{[^}]*cause="${c.cause}"[^}]*\\} 1$`, "m"),
      );

      // The run's processes were seen, and none of them (nor anything else of their uids) is left.
      expect(seen.uids.length).toBeGreaterThan(0);
      if (c.cause === "processes") expect(seen.peak).toBeLessThanOrEqual(DEFAULT_LIMITS.maxProcesses);
      const end = Date.now() + 5000;
      let left = seen.uids.map(countByUid).reduce((a, b) => a + b, 0);
      while (left > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        left = seen.uids.map(countByUid).reduce((a, b) => a + b, 0);
      }
      expect(left).toBe(0);
    });
  }

  it("the process that ran them still runs a full cycle", async () => {
    const dir = join(tempDir(), "demo");
    buildDemoRepo(dir);
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }),
      engineDeps(null, undefined, { testTimeoutMs: 120_000 }),
    );
    expect(summary.status).toBe("completed");
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass" });
  });
});
