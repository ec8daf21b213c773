/**
 * The worker's /metrics after a cycle: the series observed inside the cycle's child process (phase durations,
 * candidates by tier, prediction latency, model fallbacks, sandbox kills) reach the worker's registry. A real
 * `odavl worker` process, real Redis and Postgres, a generated git repository.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setConsent } from "../../src/db/queries/repositories.js";
import { registerShadowRepository } from "../../src/db/queries/shadow-repositories.js";
import { CYCLES_QUEUE } from "../../src/queue/config.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import {
  buildDemo,
  finishedJob,
  killGroup,
  producerConnection,
  redisUrl,
  spawnNode,
  testQueueConfig,
  useWorkerFixture,
  waitFor,
} from "../queue/helpers.js";
import { freePort } from "../queue/services.js";

const TIMEOUT = 240_000;

/** The sum of a series' samples whose labels include `labels` (Prometheus text format). */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe("worker metrics", () => {
  const fx = useWorkerFixture("metrics");

  it(
    "after one cycle, /metrics holds what the cycle's child process observed",
    async () => {
      const prefix = testQueueConfig("metrics").prefix;
      const config = { ...CYCLES_QUEUE, prefix };
      const queue = createCyclesQueue(config, producerConnection());
      try {
        const source = join(fx.dir, "shadow");
        const sha = buildDemo(source);
        const repo = await registerShadowRepository(fx.db.db, { owner: "local", name: "shadow", source });
        await setConsent(fx.db.db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });

        const port = await freePort();
        const worker = spawnNode(["bin/odavl.js", "worker", "--no-install", "--unsandboxed", "--concurrency", "1"], {
          DATABASE_URL: fx.db.url as string,
          REDIS_URL: redisUrl(),
          QUEUE_PREFIX: prefix,
          METRICS_PORT: String(port),
          // The heuristic decides every batch: each one is a fallback with cause "disabled".
          ML_ENABLE: "false",
          LOG_LEVEL: "info",
        });
        await waitFor(
          async () => worker.output().includes("serving metrics"),
          TIMEOUT / 2,
          `the worker to serve metrics\n${worker.output()}`,
        );
        const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const before = await scrape();
        expect(sampleSum(before, "odavl_cycle_phase_duration_seconds_count")).toBe(0);

        const jobId = await createProducer(queue, config).enqueueCycle(
          {
            repositoryId: repo.id,
            repository: "local/shadow",
            sha,
            trigger: "shadow",
            // The baseline test run floods its output: the sandbox stops it (cause "output").
            collection: {
              testCommand: `node -e "const b = 'x'.repeat(1 << 20); for (let i = 0; i < 40; i++) process.stdout.write(b)"`,
              testScopes: ["all"],
              recipeIds: ["ts/remove-unused-imports", "biome/use-const"],
            },
          },
          { trigger: "shadow" },
        );
        const job = await finishedJob(queue, jobId, TIMEOUT);
        expect(job.failedReason, worker.output()).toBeUndefined();
        // What BullMQ stored is the processor's own result, without the observations that travelled with it.
        expect(Object.keys(job.returnvalue).sort()).toEqual(
          ["candidates", "checkRunId", "cycleId", "pullRequests", "sha", "status", "stored", "verified"].sort(),
        );
        const candidates = job.returnvalue.candidates as number;
        expect(candidates).toBeGreaterThan(0);

        const text = await scrape();
        const h = "odavl_cycle_phase_duration_seconds";
        for (const phase of ["cycle", "observe", "candidates", "decide", "verify", "learn"])
          expect(sampleSum(text, `${h}_count`, { phase, role: "worker" }), `phase ${phase}\n${text}`).toBe(1);
        expect(sampleSum(text, `${h}_sum`, { phase: "cycle" })).toBeGreaterThan(0);
        expect(sampleSum(text, `${h}_count`, { phase: "job" })).toBe(1);
        expect(sampleSum(text, "odavl_candidates_total")).toBe(candidates);
        expect(sampleSum(text, "odavl_prediction_latency_seconds_count")).toBe(1);
        expect(sampleSum(text, "odavl_model_fallbacks_total", { cause: "disabled" })).toBe(1);
        expect(sampleSum(text, "odavl_sandbox_kills_total", { cause: "output" }), text).toBeGreaterThanOrEqual(1);

        killGroup(worker, "SIGTERM");
        expect(await worker.exited).toBe(0);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
    TIMEOUT,
  );
});
