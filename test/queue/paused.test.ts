/**
 * GitHub refusing for good stops the work instead of retrying on every schedule: a suspended installation (403
 * "suspended" on its token) is marked suspended, a repository GitHub answers 404 for is paused, and their
 * schedules go; their later jobs are skipped without a GitHub call. Real Postgres and Redis, GitHub mocked.
 */
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { processCycleJob } from "../../src/queue/processors/cycle.js";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { createSchedules, reconcileSchedules, schedulerId } from "../../src/queue/schedules.js";
import { GitHubMock, useStrictNock } from "../github/helpers/github-mock.js";
import { testProbot } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { producerConnection, resetRepositories, testQueueConfig, testWorkerDeps } from "./helpers.js";

describe("refused by GitHub", () => {
  useStrictNock();
  let db: TestDb;
  let queue: Queue;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    queue = createCyclesQueue(testQueueConfig("paused"), producerConnection());
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await db.cleanup();
  });
  beforeEach(() => resetRepositories(db.db, queue));

  async function setUp() {
    const schedules = createSchedules(queue, testQueueConfig("paused"));
    const [repo] = await registerRepositories(db.db, { id: 4001, accountLogin: "acme", accountType: "Organization" }, [
      { githubId: 1001, owner: "acme", name: "demo" },
    ]);
    if (!repo) throw new Error("no repository");
    await schedules.upsert(repo, "daily");
    const worker = await testWorkerDeps({ db: db.db, probot: testProbot(), repos: {}, schedules });
    const job = {
      id: "repeat:schedule-job",
      name: "cycle",
      data: { repositoryId: repo.id, repository: "acme/demo", sha: null, trigger: "schedule" },
      attemptsStarted: 1,
      maxAttempts: 4,
    };
    return { repo, schedules, worker, job };
  }

  it("pauses a repository GitHub answers 404 for, removes its schedule, and skips its later jobs", async () => {
    const { repo, worker, job } = await setUp();
    try {
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual([schedulerId(repo.id)]);
      new GitHubMock("acme", "demo").accessToken(4001).repositoryGone();
      const result = await processCycleJob(job, worker.deps);
      expect(result).toEqual({ status: "skipped", reason: "repository paused: GitHub answered 404 for acme/demo" });
      expect(await queue.getJobSchedulers()).toEqual([]);
      // The next job makes no GitHub call at all (strict nock: none is mocked).
      expect(await processCycleJob(job, worker.deps)).toMatchObject({ status: "skipped" });
      // Start-up reconciliation does not bring its schedule back.
      await reconcileSchedules(db.db, queue, createSchedules(queue, testQueueConfig("paused")));
      expect(await queue.getJobSchedulers()).toEqual([]);
      // An event about it (registered again) ends the pause.
      await registerRepositories(db.db, { id: 4001, accountLogin: "acme", accountType: "Organization" }, [
        { githubId: 1001, owner: "acme", name: "demo" },
      ]);
      expect(await queryRows(db.db, sql`select paused_at, paused_reason from repositories`)).toEqual([
        { paused_at: null, paused_reason: null },
      ]);
    } finally {
      await worker.close();
    }
  });

  it("marks an installation suspended when GitHub refuses its token as suspended", async () => {
    const { worker, job } = await setUp();
    try {
      new GitHubMock("acme", "demo").accessTokenSuspended(4001);
      expect(await processCycleJob(job, worker.deps)).toEqual({ status: "skipped", reason: "installation suspended" });
      const [row] = await queryRows<{ suspended: boolean }>(
        db.db,
        sql`select suspended_at is not null as suspended from installations`,
      );
      expect(row?.suspended).toBe(true);
      expect(await queue.getJobSchedulers()).toEqual([]);
      expect(await processCycleJob(job, worker.deps)).toEqual({ status: "skipped", reason: "installation suspended" });
    } finally {
      await worker.close();
    }
  });
});
