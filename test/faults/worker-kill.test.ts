import { describe, expect, it } from "vitest";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  killGroup,
  NOCKED_WORKER,
  spawnNode,
  useWorkerFixture,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("a worker killed mid-cycle", () => {
  const fx = useWorkerFixture("kill");

  it(
    "the job is retried elsewhere and leaves one check run and one set of outcomes",
    async () => {
      // A short lock, so that the dead worker's job is found stalled within seconds.
      const s = await fx.scenario({
        tag: "kill",
        installationId: 4001,
        githubId: 1001,
        worker: { lockDurationMs: 3000, stalledIntervalMs: 1000, maxStalledCount: 1 },
      });
      try {
        const jobId = await s.enqueuePush();
        const first = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(fx.db.db, jobId, TIMEOUT / 2, first.output);
        // The check run exists and the cycle is under way (checkout, type check): kill the worker and all it runs.
        await new Promise((r) => setTimeout(r, 1000));
        killGroup(first, "SIGKILL");
        await first.exited;
        const during = await cycleRecord(fx.db.db, jobId);
        expect(
          during.cycles.map((c) => c.status),
          "the cycle had finished before the kill",
        ).toEqual(["running"]);

        const second = spawnNode(NOCKED_WORKER, s.env);
        const job = await finishedJob(s.queue, jobId, TIMEOUT);
        expect(job.failedReason, second.output()).toBeUndefined();
        expect(await job.getState()).toBe("completed");
        expect(job.attemptsStarted).toBe(2);
        // The second worker found the job stalled, and its log line names the job's repository and commit.
        const stalled = second
          .output()
          .split("\n")
          .filter((l) => l.includes("job stalled"))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(stalled).toHaveLength(1);
        expect(stalled[0]).toMatchObject({ jobId, repository: "acme/demo", sha: job.data.sha });

        const { unmatched, creates, completions } = checkRunCalls(githubCalls(s.githubLog));
        expect(unmatched).toEqual([]);
        // One check run, created by the first worker's cycle process and completed by the second's.
        expect(creates).toHaveLength(1);
        expect(completions.map((c) => c.path)).toEqual([`/repos/acme/demo/check-runs/${creates[0]?.id}`]);
        expect(completions[0]?.pid).not.toBe(creates[0]?.pid);

        const candidates = job.returnvalue.candidates as number;
        expect(candidates).toBeGreaterThan(0);
        const after = await cycleRecord(fx.db.db, jobId);
        expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([
          ["completed", candidates, true],
        ]);
        expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({
          predictions: candidates,
          outcomes: candidates,
        });
      } finally {
        await s.close();
      }
    },
    TIMEOUT,
  );
});
