import { describe, expect, it } from "vitest";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  type InstalledScenario,
  NOCKED_WORKER,
  spawnNode,
  useWorkerFixture,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("a worker stopped mid-cycle", () => {
  const fx = useWorkerFixture("sigterm");

  /** One check run created and completed, one completed cycle with its outcomes stored once. */
  async function expectOneOfEverything(s: InstalledScenario, repo: string, jobId: string, candidates: number) {
    const { unmatched, creates, completions } = checkRunCalls(githubCalls(s.githubLog));
    expect(unmatched).toEqual([]);
    expect(creates).toHaveLength(1);
    expect(completions.map((c) => c.path)).toEqual([`/repos/${repo}/check-runs/${creates[0]?.id}`]);
    expect(candidates).toBeGreaterThan(0);
    const after = await cycleRecord(fx.db.db, jobId);
    expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([["completed", candidates, true]]);
    expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({
      predictions: candidates,
      outcomes: candidates,
    });
  }

  it(
    "SIGTERM: the running cycle finishes, then the worker exits 0",
    async () => {
      const s = await fx.scenario({
        tag: "sigterm",
        installationId: 4201,
        githubId: 1201,
      });
      try {
        const jobId = await s.enqueuePush();
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(fx.db.db, jobId, TIMEOUT / 2, worker.output);
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
      const s = await fx.scenario({
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
        await waitForCycleUnderWay(fx.db.db, jobId, TIMEOUT / 2, first.output);
        first.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 200));
        first.child.kill("SIGTERM");
        expect(await first.exited, first.output()).toBe(0);
        const handedBack = await cycleRecord(fx.db.db, jobId);
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
