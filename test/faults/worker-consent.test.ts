import { describe, expect, it } from "vitest";
import { findRepositoryById, setConsent } from "../../src/db/queries/repositories.js";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  NOCKED_WORKER,
  spawnNode,
  useWorkerFixture,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("consent revoked mid-cycle", () => {
  const fx = useWorkerFixture("consent");

  it(
    "nothing from that cycle is stored",
    async () => {
      // The repository's configuration turns data collection on when the cycle starts.
      const s = await fx.scenario({
        tag: "consent",
        installationId: 4301,
        githubId: 1301,
      });
      try {
        const jobId = await s.enqueuePush();
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(fx.db.db, jobId, TIMEOUT / 2, worker.output);
        expect((await findRepositoryById(fx.db.db, s.repositoryId))?.dataCollection).toBe(true);

        // An operator records the maintainer's withdrawal while the cycle checks fixes.
        await setConsent(fx.db.db, s.repositoryId, "dataCollection", false, { source: "operator", actor: "test" });
        const during = await cycleRecord(fx.db.db, jobId);
        expect(
          during.cycles.map((c) => c.status),
          "the cycle had finished before consent was revoked",
        ).toEqual(["running"]);

        const job = await finishedJob(s.queue, jobId, TIMEOUT);
        expect(job.failedReason, worker.output()).toBeUndefined();
        const candidates = job.returnvalue.candidates as number;
        expect(candidates).toBeGreaterThan(0);
        expect(job.returnvalue.stored).toBe(false);

        const after = await cycleRecord(fx.db.db, jobId);
        expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([
          ["completed", candidates, false],
        ]);
        expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({ predictions: 0, outcomes: 0 });
        expect((await findRepositoryById(fx.db.db, s.repositoryId))?.dataCollection).toBe(false);
        // The cycle still reported to the maintainer.
        const { creates, completions } = checkRunCalls(githubCalls(s.githubLog));
        expect([creates.length, completions.length]).toEqual([1, 1]);
      } finally {
        await s.close();
      }
    },
    TIMEOUT,
  );
});
