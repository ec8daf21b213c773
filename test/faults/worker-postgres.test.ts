/**
 * Postgres stops in the middle of a cycle (an immediate shutdown: connections cut, as in a crash or a failover)
 * and comes back a few seconds later: the job fails while it is down, is retried with backoff, and succeeds once
 * it is back, leaving exactly one cycle row for its run key and one consistent set of predictions and outcomes.
 * A Postgres server of this test's own (stopped and restarted), a real worker process, Redis and git.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openDb } from "../../src/db/client.js";
import {
  checkRunCalls,
  cycleRecord,
  finishedJob,
  githubCalls,
  installedScenario,
  killSpawned,
  NOCKED_WORKER,
  spawnNode,
  waitFor,
  waitForCycleUnderWay,
} from "../queue/helpers.js";
import { type PostgresServer, startPostgres } from "../queue/services.js";

const TIMEOUT = 300_000;

describe("Postgres down mid-cycle", () => {
  let pg: PostgresServer;
  let dir: string;

  beforeAll(async () => {
    pg = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), "odavl-fault-postgres-"));
  });
  afterEach(killSpawned);
  afterAll(() => {
    pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "the job retries with backoff and succeeds after Postgres returns, leaving no partial rows",
    async () => {
      let db: DbHandle = await openDb({ databaseUrl: pg.url, migrate: true, poolSize: 2 });
      const s = await installedScenario({
        db: db.db,
        databaseUrl: pg.url,
        dir,
        tag: "postgres",
        installationId: 4501,
        githubId: 1501,
        // Retries 1, 2, 4, 8, 16 s apart: the first ones meet Postgres down, a later one finds it back.
        jobOptions: { attempts: 6, backoff: { type: "exponential", delay: 1000 } },
      });
      try {
        const jobId = await s.enqueuePush();
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(db.db, jobId, TIMEOUT / 2, worker.output);
        await db.close();
        pg.stop("immediate");

        // Down until the job has failed on it at least once (it must write its results at the end of the cycle).
        await waitFor(
          async () => ((await s.queue.getJob(jobId))?.attemptsMade ?? 0) >= 1,
          TIMEOUT / 2,
          `an attempt to fail while Postgres is down\n${worker.output()}`,
        );
        expect(await s.queue.getJobState(jobId)).not.toBe("failed");
        await sleep(2000);
        pg.start();

        const job = await finishedJob(s.queue, jobId, TIMEOUT);
        // The attempts that met Postgres down failed (failedReason keeps the last such failure); a later one completed.
        expect(await job.getState(), `${job.failedReason}\n${worker.output()}`).toBe("completed");
        expect(job.attemptsStarted).toBeGreaterThanOrEqual(2);

        db = await openDb({ databaseUrl: pg.url, migrate: false, poolSize: 2 });
        const candidates = job.returnvalue.candidates as number;
        expect(candidates).toBeGreaterThan(0);
        const after = await cycleRecord(db.db, jobId);
        expect(after.cycles.map((c) => [c.status, c.candidates, c.data_stored])).toEqual([
          ["completed", candidates, true],
        ]);
        expect({ predictions: after.predictions, outcomes: after.outcomes }).toEqual({
          predictions: candidates,
          outcomes: candidates,
        });
        // One check run, created once and completed once, across the attempts.
        const { unmatched, creates, completions } = checkRunCalls(githubCalls(s.githubLog));
        expect(unmatched).toEqual([]);
        expect(creates).toHaveLength(1);
        expect(completions.map((c) => c.path)).toEqual([`/repos/acme/demo/check-runs/${creates[0]?.id}`]);
      } finally {
        await s.close();
        await db.close().catch(() => {});
      }
    },
    TIMEOUT,
  );
});
