/**
 * Worker processes, for real: two `odavl worker` processes sharing one queue. Real Redis, real Postgres, real git
 * repositories, real child processes. (A worker killed or stopped in the middle of a cycle: test/faults.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import { registerShadowRepository } from "../../src/db/queries/shadow-repositories.js";
import { CYCLES_QUEUE } from "../../src/queue/config.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  buildDemo,
  commitFiles,
  finishedJob,
  killGroup,
  killSpawned,
  producerConnection,
  redisUrl,
  resetRepositories,
  spawnNode as start,
  testQueueConfig,
  waitFor,
} from "./helpers.js";

const TIMEOUT = 240_000;

describe("worker processes", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-processes-test-"));
  });

  afterEach(killSpawned);

  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => queryRows<T>(db.db, q);

  it(
    "two `odavl worker` processes on one queue share the work and run no job twice",
    async () => {
      await resetRepositories(db.db, null);
      const prefix = testQueueConfig("share").prefix;
      const config = { ...CYCLES_QUEUE, prefix };
      const queue = createCyclesQueue(config, producerConnection());
      try {
        // One shadow repository, four commits: four cycles.
        const shadowDir = join(dir, "shadow");
        const shas = [buildDemo(shadowDir)];
        for (let i = 1; i < 4; i++)
          shas.push(commitFiles(shadowDir, { [`src/extra${i}.ts`]: `export const n${i} = ${i};\n` }, `commit ${i}`));
        const repo = await registerShadowRepository(db.db, { owner: "local", name: "shadow", source: shadowDir });
        await db.db.execute(
          sql`update repositories set config = ${JSON.stringify({ recipes: { enable: ["biome/use-const"] }, schedule: "off" })}::jsonb where id = ${repo.id}`,
        );
        await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });

        const env = { DATABASE_URL: db.url as string, REDIS_URL: redisUrl(), QUEUE_PREFIX: prefix, LOG_LEVEL: "info" };
        const args = ["bin/odavl.js", "worker", "--no-tests", "--no-install", "--unsandboxed", "--concurrency", "1"];
        const workers = [start(args, env), start(args, env)];
        for (const w of workers)
          await waitFor(
            async () => w.output().includes("worker started"),
            TIMEOUT / 2,
            `a worker to start\n${w.output()}`,
          );

        const producer = createProducer(queue, config);
        const jobIds = await Promise.all(
          shas.map((s) =>
            producer.enqueueCycle(
              { repositoryId: repo.id, repository: "local/shadow", sha: s, trigger: "shadow" },
              { trigger: "shadow" },
            ),
          ),
        );
        const jobs = [];
        for (const id of jobIds) jobs.push(await finishedJob(queue, id, TIMEOUT));
        for (const job of jobs) {
          expect(job.failedReason, workers.map((w) => w.output()).join("\n")).toBeUndefined();
          expect([job.attemptsStarted, job.stalledCounter]).toEqual([1, 0]);
        }
        const names = new Set(jobs.map((j) => j.processedBy));
        expect(names.size, "both workers processed jobs").toBe(2);
        const cycles = await rows<{ run_key: string; status: string }>(
          sql`select run_key, status from cycles order by run_key`,
        );
        expect(cycles).toEqual([...jobIds].sort().map((id) => ({ run_key: id, status: "completed" })));

        // SIGTERM: each worker stops taking jobs, finishes what it runs, and exits cleanly.
        for (const w of workers) killGroup(w, "SIGTERM");
        expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
    TIMEOUT,
  );
});
