/**
 * `odavl collect` through the cycles queue: three generated repositories in a list file, a real BullMQ worker on
 * real Redis running their shadow cycles, real Postgres; then `odavl progress` and `odavl report` read what the
 * run stored. A second run queues nothing new, and a repository that cannot be collected has its error recorded.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import type { Probot } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { processJob } from "../../src/queue/processors/registry.js";
import { jobInfo } from "../../src/queue/processors/worker-deps.js";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { type RunningWorker, startWorker } from "../../src/queue/worker.js";
import { silentLogger } from "../github/helpers/probot.js";
import { odavl } from "../helpers/cli.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  buildDemo,
  producerConnection,
  redisUrl,
  testQueueConfig,
  testWorkerDeps,
  workerConnection,
} from "../queue/helpers.js";

const RECIPES = "ts/remove-unused-imports,biome/use-const";
const NAMES = ["alpha", "beta", "gamma"] as const;

describe("odavl collect through the queue", () => {
  let db: TestDb;
  let queue: Queue;
  let worker: RunningWorker;
  let closeDeps: () => Promise<void>;
  let dir: string;
  let listFile: string;
  const config = testQueueConfig("collect");

  beforeAll(async () => {
    db = await createTestDb("postgres");
    queue = createCyclesQueue(config, producerConnection());
    dir = mkdtempSync(join(tmpdir(), "odavl-collect-queue-"));
    for (const name of NAMES) buildDemo(join(dir, `acme__${name}`));
    listFile = join(dir, "list.txt");
    writeFileSync(
      listFile,
      [
        "# three generated repositories",
        join(dir, "acme__alpha"),
        `${join(dir, "acme__beta")}\tnpm test -- --silent`,
        `${join(dir, "acme__gamma")}  # with a comment`,
        // A ref the repository does not have: its error is recorded and the others go on.
        `${join(dir, "acme__alpha")}@no-such-branch`,
        "",
      ].join("\n"),
    );
    // The shadow cycles never call GitHub: no Probot is needed.
    const built = await testWorkerDeps({ db: db.db, probot: {} as Probot, repos: {} });
    closeDeps = built.close;
    worker = startWorker({
      config,
      connection: workerConnection(),
      concurrency: 2,
      processor: (job) => processJob(jobInfo(job), built.deps),
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await worker?.close(true);
    await queue?.obliterate({ force: true });
    await queue?.close();
    await closeDeps?.();
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ DATABASE_URL: db.url as string, REDIS_URL: redisUrl(), QUEUE_PREFIX: config.prefix });

  it("fills the database, and progress and report reflect it", async () => {
    const run = await odavl(env(), "collect", listFile, "--recipes", RECIPES, "--tests", "none");
    expect(run.code, run.stderr).toBe(0);
    for (const name of NAMES) expect(run.stderr).toMatch(new RegExp(`acme/${name}: queued cycle-r\\d+-`));
    expect(run.stderr).toContain("acme/alpha@no-such-branch: error:");
    expect(run.stderr).toMatch(/pass 1: 3 cycles, \d+ samples, 0 repositories already done, 1 errors/);

    const perRepo = await queryRows<{
      name: string;
      mode: string;
      cycles: number;
      predictions: number;
      outcomes: number;
    }>(
      db.db,
      sql`select r.owner || '/' || r.name as name, r.mode,
            (select count(*)::int from cycles c where c.repository_id = r.id) as cycles,
            (select count(*)::int from predictions p where p.repository_id = r.id) as predictions,
            (select count(*)::int from outcomes o join predictions p on p.id = o.prediction_id
              where p.repository_id = r.id) as outcomes
          from repositories r order by r.name`,
    );
    expect(perRepo.map((r) => r.name)).toEqual(NAMES.map((n) => `acme/${n}`));
    for (const r of perRepo) {
      expect(r).toMatchObject({ mode: "shadow" });
      expect(r.cycles).toBe(1);
      expect(r.predictions).toBeGreaterThan(0);
      expect(r.outcomes).toBe(r.predictions);
    }
    const errors = await queryRows<{ repository: string; ref: string | null }>(
      db.db,
      sql`select repository, ref from collection_errors`,
    );
    expect(errors).toEqual([{ repository: "acme/alpha", ref: "no-such-branch" }]);

    // The collection's options travelled with the jobs.
    const jobs = await queue.getJobs(["completed"]);
    expect(jobs).toHaveLength(3);
    const beta = jobs.find((j) => j.data.repository === "acme/beta");
    expect(beta?.data.collection).toMatchObject({
      recipeIds: RECIPES.split(",").sort(),
      testCommand: "npm test -- --silent",
      testScopes: [],
    });

    const samples = perRepo.reduce((n, r) => n + r.predictions, 0);
    const progress = await odavl(env(), "progress", "--json");
    expect(progress.code, progress.stderr).toBe(0);
    const p = JSON.parse(progress.stdout) as {
      samples: number;
      completed: number;
      repositories: number;
      perRepository: { name: string; samples: number }[];
    };
    expect(p.samples).toBe(samples);
    expect(p.repositories).toBe(3);
    expect(p.perRepository.map((r) => r.name).sort()).toEqual(NAMES.map((n) => `acme/${n}`));

    const report = await odavl(env(), "report", "--json");
    expect(report.code, report.stderr).toBe(0);
    const r = JSON.parse(report.stdout) as {
      samples: number;
      funnel: { predictions: number; withOutcome: number; verified: number; verifiedScoredByModel: number };
    };
    // Every stored prediction and outcome reaches the report's funnel; its samples are the ones a model scored
    // (none here: no model is trained in this database).
    expect(r.funnel).toMatchObject({ predictions: samples, withOutcome: samples, verified: p.completed });
    expect(r.funnel.verified).toBeGreaterThan(0);
    expect(r.samples).toBe(r.funnel.verifiedScoredByModel);
  });

  it("queues nothing again for what is recorded", async () => {
    const before = await queryRows<{ n: number }>(db.db, sql`select count(*)::int as n from cycles`);
    const run = await odavl(env(), "collect", listFile, "--recipes", RECIPES, "--tests", "none");
    expect(run.code, run.stderr).toBe(0);
    const after = await queryRows<{ n: number }>(db.db, sql`select count(*)::int as n from cycles`);
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(await queue.getJobs(["completed"])).toHaveLength(3);
  });
});
