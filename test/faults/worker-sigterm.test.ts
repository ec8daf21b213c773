/**
 * A worker told to stop (SIGTERM, as a deploy or a scale-down does) in the middle of a cycle: it finishes the
 * cycle and exits 0; told twice (its grace period ran out), it hands the job back, exits 0, and another worker
 * runs it. Either way nothing is lost or done twice: one check run, one cycle, one set of outcomes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  type InstalledScenario,
  installedScenario,
  killSpawned,
  NOCKED_WORKER,
  spawnNode,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("a worker stopped mid-cycle", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-fault-sigterm-"));
  });
  afterEach(killSpawned);
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One check run created and completed, one completed cycle with its outcomes stored once. */
  async function expectOneOfEverything(s: InstalledScenario, repo: string, jobId: string, candidates: number) {
    const { unmatched, creates, completions } = checkRunCalls(githubCalls(s.githubLog));
    expect(unmatched).toEqual([]);
    expect(creates).toHaveLength(1);
    expect(completions.map((c) => c.path)).toEqual([`/repos/${repo}/check-runs/${creates[0]?.id}`]);
    expect(candidates).toBeGreaterThan(0);
    const after = await cycleRecord(db.db, jobId);
    expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([["completed", candidates, true]]);
    expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({
      predictions: candidates,
      outcomes: candidates,
    });
  }

  it(
    "SIGTERM: the running cycle finishes, then the worker exits 0",
    async () => {
      const s = await installedScenario({
        db: db.db,
        databaseUrl: db.url as string,
        dir,
        tag: "sigterm",
        installationId: 4201,
        githubId: 1201,
      });
      try {
        const jobId = await s.enqueuePush();
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(db.db, jobId, TIMEOUT / 2, worker.output);
        // To the worker process alone, as a container runtime signals its main process.
        worker.child.kill("SIGTERM");
        expect(await worker.exited, worker.output()).toBe(0);
        // It exited after the job finished: the job is completed, in its first attempt, by this worker.
        const job = await finishedJob(s.queue, jobId, 10_000);
        expect(await job.getState()).toBe("completed");
        expect([job.attemptsStarted, job.stalledCounter]).toEqual([1, 0]);
        await expectOneOfEverything(s, "acme/demo", jobId, job.returnvalue.candidates as number);
      } finally {
        await s.close();
      }
    },
    TIMEOUT,
  );

  it(
    "a second SIGTERM: the job is handed back, the worker exits 0, and another worker runs it once",
    async () => {
      const s = await installedScenario({
        db: db.db,
        databaseUrl: db.url as string,
        dir,
        tag: "sigterm2",
        installationId: 4202,
        githubId: 1202,
        owner: "acme",
        name: "other",
        // A short lock: the abandoned job is found within seconds.
        worker: { lockDurationMs: 3000, stalledIntervalMs: 1000, maxStalledCount: 1 },
      });
      try {
        const jobId = await s.enqueuePush();
        const first = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(db.db, jobId, TIMEOUT / 2, first.output);
        first.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 200));
        first.child.kill("SIGTERM");
        expect(await first.exited, first.output()).toBe(0);
        const handedBack = await cycleRecord(db.db, jobId);
        expect(
          handedBack.cycles.map((c) => c.status),
          "the cycle finished before the second signal",
        ).toEqual(["running"]);
        expect(await s.queue.getJobState(jobId)).not.toBe("completed");

        const second = spawnNode(NOCKED_WORKER, s.env);
        const job = await finishedJob(s.queue, jobId, TIMEOUT);
        // The abandoned attempt failed (its cycle process was killed); the retry completed.
        expect(await job.getState(), `${job.failedReason}\n${second.output()}`).toBe("completed");
        expect(job.attemptsStarted).toBe(2);
        await expectOneOfEverything(s, "acme/other", jobId, job.returnvalue.candidates as number);
      } finally {
        await s.close();
      }
    },
    TIMEOUT,
  );
});
