import { join } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { forgetInstallation, registerRepositories } from "../../src/db/queries/installations.js";
import { createProducer } from "../../src/queue/producer.js";
import {
  buildDemo,
  finishedJob,
  NOCKED_WORKER,
  spawnNode,
  useWorkerFixture,
  waitForCycleUnderWay,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

describe("installation deleted while its jobs run", () => {
  const fx = useWorkerFixture("uninstall");

  /** Everything stored about the installation's repositories (this file's database holds nothing else). */
  const stored = async () =>
    (
      await queryRows<Record<string, number>>(
        fx.db.db,
        sql`select (select count(*)::int from installations) as installations,
                   (select count(*)::int from repositories) as repositories,
                   (select count(*)::int from cycles) as cycles,
                   (select count(*)::int from predictions) as predictions,
                   (select count(*)::int from outcomes) as outcomes,
                   (select count(*)::int from consent_events) as consent_events`,
      )
    )[0];

  it(
    "none of its rows exist afterwards, no job writes any, and a replayed deletion is a no-op",
    async () => {
      const s = await fx.scenario({
        tag: "uninstall",
        installationId: 4601,
        githubId: 1601,
      });
      try {
        // A second repository of the installation, whose job waits behind the first (one worker, one at a time).
        const secondSha = buildDemo(join(fx.dir, "acme", "second"), { "src/more.ts": "export const more = 1;\n" });
        const [second] = await registerRepositories(
          fx.db.db,
          { id: 4601, accountLogin: "acme", accountType: "Organization" },
          [{ githubId: 1602, owner: "acme", name: "second" }],
        );
        const running = await s.enqueuePush("delivery-push-1");
        const waiting = await createProducer(s.queue, s.config).enqueueCycle(
          { repositoryId: second?.id as number, repository: "acme/second", sha: secondSha, trigger: "push" },
          { trigger: "push" },
        );
        const worker = spawnNode(NOCKED_WORKER, s.env);
        await waitForCycleUnderWay(fx.db.db, running, TIMEOUT / 2, worker.output);
        expect(await s.queue.getJobState(waiting)).toBe("prioritized");
        expect((await stored())?.cycles).toBe(1);

        // The deletion, as the installation.deleted handler runs it.
        const removed = await forgetInstallation(fx.db.db, 4601, "delivery-uninstall");
        expect(removed.sort()).toEqual([s.repositoryId, second?.id].sort());
        const taken = await createProducer(s.queue, s.config).removeRepositoryJobs(removed);
        expect(taken).toBe(1);
        expect(await s.queue.getJob(waiting)).toBeUndefined();

        // The running job ends without writing anything back.
        const job = await finishedJob(s.queue, running, TIMEOUT).catch((e) => {
          throw new Error(`${e}\n${worker.output()}`);
        });
        expect(await job.getState(), `${job.failedReason}\n${worker.output()}`).toBe("completed");
        // In the attempt it was running in: the repository's disappearance is an answer, not a failure to retry.
        expect([job.attemptsStarted, job.failedReason]).toEqual([1, undefined]);
        expect(job.returnvalue).toEqual({ status: "skipped", reason: "repository removed" });
        const nothing = {
          installations: 0,
          repositories: 0,
          cycles: 0,
          predictions: 0,
          outcomes: 0,
          consent_events: 0,
        };
        expect(await stored()).toEqual(nothing);
        expect((await s.queue.getJobCounts("active", "waiting", "prioritized", "delayed")).active).toBe(0);

        // The same delivery again (GitHub redelivers): nothing to delete, nothing changes.
        expect(await forgetInstallation(fx.db.db, 4601, "delivery-uninstall")).toEqual([]);
        expect(await createProducer(s.queue, s.config).removeRepositoryJobs(removed)).toBe(0);
        expect(await stored()).toEqual(nothing);
      } finally {
        await s.close();
      }
    },
    TIMEOUT,
  );
});
