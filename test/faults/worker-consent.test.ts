/**
 * Data-collection consent revoked while a cycle runs: the cycle still finishes and reports, but nothing of it is
 * stored (no predictions, no outcomes, the cycle marked as not stored). A real worker process, real Redis,
 * Postgres and git; GitHub mocked in the cycle process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findRepositoryById, setConsent } from "../../src/db/queries/repositories.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  installedScenario,
  killSpawned,
  NOCKED_WORKER,
  spawnNode,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("consent revoked mid-cycle", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-fault-consent-"));
  });
  afterEach(killSpawned);
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "nothing from that cycle is stored",
    async () => {
      // The repository's configuration turns data collection on when the cycle starts.
      const s = await installedScenario({
        db: db.db,
        databaseUrl: db.url as string,
        dir,
        tag: "consent",
        installationId: 4301,
        githubId: 1301,
      });
      try {
        const jobId = await s.enqueuePush();
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(db.db, jobId, TIMEOUT / 2, worker.output);
        expect((await findRepositoryById(db.db, s.repositoryId))?.dataCollection).toBe(true);

        // An operator records the maintainer's withdrawal while the cycle checks fixes.
        await setConsent(db.db, s.repositoryId, "dataCollection", false, { source: "operator", actor: "test" });
        const during = await cycleRecord(db.db, jobId);
        expect(
          during.cycles.map((c) => c.status),
          "the cycle had finished before consent was revoked",
        ).toEqual(["running"]);

        const job = await finishedJob(s.queue, jobId, TIMEOUT);
        expect(job.failedReason, worker.output()).toBeUndefined();
        const candidates = job.returnvalue.candidates as number;
        expect(candidates).toBeGreaterThan(0);
        expect(job.returnvalue.stored).toBe(false);

        const after = await cycleRecord(db.db, jobId);
        expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([
          ["completed", candidates, false],
        ]);
        expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({ predictions: 0, outcomes: 0 });
        expect((await findRepositoryById(db.db, s.repositoryId))?.dataCollection).toBe(false);
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
