/**
 * Structured logs of a job: every line the worker and its cycle process write about a job names its delivery id,
 * job id, repository and sha. A real worker process (GitHub mocked in its cycle processes), real Redis, Postgres
 * and git; logs at debug level, so that the collaborators' lines (GitHub client, install, predictor) are there too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  buildDemo,
  finishedJob,
  killSpawned,
  logLines,
  NOCKED_WORKER,
  nockedWorkerEnv,
  producerConnection,
  spawnNode,
  testQueueConfig,
  waitFor,
} from "../queue/helpers.js";

const TIMEOUT = 240_000;

/** Lines about the process, not about a job: written at start-up and shutdown, or once per process. */
const PROCESS_LINES = new Set([
  "trust model loaded",
  "trust model not promoted by its card; it runs beside the heuristic, which decides",
  "no sandbox: repository tests will not run",
  "error reporting to Sentry is on",
]);

describe("job logs", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-logs-test-"));
  });
  afterEach(killSpawned);
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "every line logged about a job carries its delivery id, job id, repository and sha",
    async () => {
      const config = testQueueConfig("logs");
      const queue = createCyclesQueue(config, producerConnection());
      try {
        const sha = buildDemo(join(dir, "acme", "demo"));
        const [repo] = await registerRepositories(
          db.db,
          { id: 4101, accountLogin: "acme", accountType: "Organization" },
          [{ githubId: 1101, owner: "acme", name: "demo" }],
        );
        const worker = spawnNode(
          NOCKED_WORKER,
          nockedWorkerEnv({
            databaseUrl: db.url as string,
            queue: config,
            cloneBase: dir,
            githubLog: join(dir, "github.log"),
            // Consent turned on by the configuration: the cycle logs the change.
            odavlYml: "dataCollection: true\nrecipes:\n  enable: [biome/use-const]\n",
            logLevel: "debug",
          }),
        );
        await waitFor(async () => worker.output().includes("ready"), TIMEOUT / 2, worker.output());
        const deliveryId = "5e1f0000-aaaa-4bbb-8ccc-000000000001";
        const jobId = await createProducer(queue, config).enqueueCycle(
          { repositoryId: repo?.id as number, repository: "acme/demo", sha, trigger: "push", deliveryId },
          { trigger: "push" },
        );
        const job = await finishedJob(queue, jobId, TIMEOUT);
        expect(job.failedReason, worker.output()).toBeUndefined();
        // The worker logs the completion after BullMQ stored it.
        await waitFor(async () => worker.output().includes('"job completed"'), 10_000, worker.output());

        const lines = logLines(worker.output());
        const jobLines = lines.filter((l) => !PROCESS_LINES.has(String(l.msg)));
        const expected = { deliveryId, jobId, repository: "acme/demo", sha };
        for (const line of jobLines) expect(line, JSON.stringify(line)).toMatchObject(expected);
        // No field is written twice on one line (a bound field and the job context's).
        for (const raw of worker
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{"))) {
          expect(raw.match(/"jobId":/g)?.length ?? 0, raw).toBeLessThanOrEqual(1);
        }
        // Lines of both processes, and of the collaborators the processors call, were checked.
        const messages = jobLines.map((l) => `${l.role}: ${l.msg}`);
        expect(messages).toEqual(
          expect.arrayContaining([
            "cycle-child: consent changed",
            "cycle-child: cycle published",
            "worker: job completed",
          ]),
        );
        expect(jobLines.some((l) => l.role === "cycle-child" && l.name === "github")).toBe(true);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
    TIMEOUT,
  );
});
