/**
 * Worker processes, for real: a worker killed in the middle of a cycle, and two `odavl worker` processes sharing
 * one queue. Real Redis, real Postgres, real git repositories, real child processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { countRows } from "../../src/db/queries/cycles.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import { registerRepositories, registerShadowRepository } from "../../src/github/store.js";
import { CYCLES_QUEUE } from "../../src/queue/config.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import { testPrivateKey } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  buildDemo,
  commitFiles,
  finishedJob,
  producerConnection,
  redisUrl,
  testQueueConfig,
  waitFor,
} from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TIMEOUT = 240_000;

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const spawned: Spawned[] = [];

/** A child process in its own process group, so that a kill takes its whole tree, as a container kill does. */
function start(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const s = { child, output: () => output, exited };
  spawned.push(s);
  return s;
}

function killGroup(s: Spawned, signal: NodeJS.Signals): void {
  try {
    if (s.child.pid) process.kill(-s.child.pid, signal);
  } catch {
    // Already gone.
  }
}

describe("worker processes", () => {
  let db: TestDb;
  let dir: string;
  let demoDir: string;
  let sha: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-processes-test-"));
    demoDir = join(dir, "acme", "demo");
    sha = buildDemo(demoDir);
  });

  afterEach(async () => {
    for (const s of spawned.splice(0)) {
      killGroup(s, "SIGKILL");
      await s.exited;
    }
  });

  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => queryRows<T>(db.db, q);

  it(
    "a worker killed in the middle of a cycle: the job is retried elsewhere and leaves one check run and one set of outcomes",
    async () => {
      // A short lock, so that the dead worker's job is found stalled within seconds.
      const config = testQueueConfig("kill", { lockDurationMs: 3000, stalledIntervalMs: 1000, maxStalledCount: 1 });
      const queue = createCyclesQueue(config, producerConnection());
      try {
        const [repo] = await registerRepositories(
          db.db,
          { id: 4001, accountLogin: "acme", accountType: "Organization" },
          [{ githubId: 1001, owner: "acme", name: "demo" }],
        );
        const jobId = await createProducer(queue, config).enqueueCycle(
          { repositoryId: repo?.id as number, repository: "acme/demo", sha, trigger: "push" },
          { trigger: "push" },
        );
        const log = join(dir, "github-kill.log");
        const env = {
          DATABASE_URL: db.url as string,
          REDIS_URL: redisUrl(),
          APP_ID: "1",
          PRIVATE_KEY: testPrivateKey(),
          ODAVL_TEST_QUEUE: JSON.stringify(config),
          ODAVL_TEST_CLONE_BASE: dir,
          ODAVL_TEST_GH_LOG: log,
          ODAVL_TEST_CONFIG: "dataCollection: true\nrecipes:\n  enable: [ts/remove-unused-imports, biome/use-const]\n",
        };
        const entry = ["--import", "tsx", "test/queue/fixtures/worker-process.ts"];

        const first = start(entry, env);
        await waitFor(
          async () =>
            (await rows<{ id: number }>(sql`select check_run_id as id from cycles where run_key = ${jobId}`))[0]?.id,
          TIMEOUT / 2,
          `the first attempt's check run\n${first.output()}`,
        );
        // The check run exists and the cycle is under way (checkout, type check): kill the worker and all it runs.
        await new Promise((r) => setTimeout(r, 1000));
        killGroup(first, "SIGKILL");
        await first.exited;
        const [during] = await rows<{ status: string }>(sql`select status from cycles where run_key = ${jobId}`);
        expect(during?.status, "the cycle had finished before the kill; nothing was tested").toBe("running");

        const second = start(entry, env);
        const job = await finishedJob(queue, jobId, TIMEOUT);
        expect(job.failedReason, second.output()).toBeUndefined();
        expect(await job.getState()).toBe("completed");
        expect(job.attemptsStarted).toBe(2);

        const calls = readFileSync(log, "utf8")
          .split("\n")
          .filter(Boolean)
          .map(
            (l) =>
              JSON.parse(l) as { pid: number; method: string; path: string; body: { status?: string }; id?: number },
          );
        expect(calls.filter((c) => c.path.startsWith("UNMATCHED"))).toEqual([]);
        // One check run, created by the first worker's cycle process and completed by the second's.
        const creates = calls.filter((c) => c.method === "POST" && c.path.endsWith("/check-runs"));
        expect(creates).toHaveLength(1);
        const completing = calls.filter((c) => c.method === "PATCH" && c.body.status === "completed");
        expect(completing.map((c) => c.path)).toEqual([`/repos/acme/demo/check-runs/${creates[0]?.id}`]);
        expect(completing[0]?.pid).not.toBe(creates[0]?.pid);

        const cycles = await rows(sql`select status, check_run_id::int as check_run_id, candidates from cycles`);
        expect(cycles).toEqual([
          { status: "completed", check_run_id: creates[0]?.id, candidates: job.returnvalue.candidates },
        ]);
        const counts = await countRows(db.db);
        expect(job.returnvalue.candidates).toBeGreaterThan(0);
        expect({ predictions: counts.predictions, outcomes: counts.outcomes }).toEqual({
          predictions: job.returnvalue.candidates,
          outcomes: job.returnvalue.candidates,
        });
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
    TIMEOUT,
  );

  it(
    "two `odavl worker` processes on one queue share the work and run no job twice",
    async () => {
      await db.db.execute(sql`truncate deliveries, installations, repositories restart identity cascade`);
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
