/**
 * Error reporting: a real `odavl worker` process with SENTRY_DSN pointing at a local HTTP listener that stands in
 * for Sentry's ingest, and a job that fails; and no Sentry at all when SENTRY_DSN is unset.
 */
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as Sentry from "@sentry/node";
import { describe, expect, it } from "vitest";
import { registerShadowRepository } from "../../src/db/queries/shadow-repositories.js";
import { initErrorReporting } from "../../src/observability/sentry.js";
import { CYCLES_QUEUE } from "../../src/queue/config.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import {
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

const TIMEOUT = 180_000;

interface SentryEvent {
  level?: string;
  tags?: Record<string, string>;
  exception?: { values?: { type?: string; value?: string }[] };
}

/** A stand-in for Sentry's ingest: keeps the events of every envelope posted to it. */
async function fakeIngest(): Promise<{ server: Server; dsn: string; events: SentryEvent[]; requests: string[] }> {
  const events: SentryEvent[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      requests.push(`${req.method} ${req.url}\n${body.toString("utf8").slice(0, 300)}`);
      // An envelope: a header line, then item header and item payload lines.
      const lines = body.toString("utf8").split("\n").filter(Boolean);
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const item = JSON.parse(lines[i] as string) as { type?: string };
        if (item.type === "event") events.push(JSON.parse(lines[i + 1] as string) as SentryEvent);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, dsn: `http://publickey@127.0.0.1:${port}/42`, events, requests };
}

describe("error reporting", () => {
  const fx = useWorkerFixture("sentry");

  it(
    "with SENTRY_DSN set, a failing job reaches Sentry's ingest with its delivery id, job id, repository and sha",
    async () => {
      const ingest = await fakeIngest();
      const base = testQueueConfig("sentry");
      // Two attempts: the first failure will be retried (a warning), the second is final (an error).
      const config = {
        ...CYCLES_QUEUE,
        prefix: base.prefix,
        defaultJobOptions: { ...base.defaultJobOptions, attempts: 2 },
      };
      const queue = createCyclesQueue(config, producerConnection());
      try {
        // A shadow repository whose source is gone: its checkout fails on every attempt.
        const repo = await registerShadowRepository(fx.db.db, {
          owner: "local",
          name: "gone",
          source: join(fx.dir, "no-such-repository"),
        });
        const worker = spawnNode(["bin/odavl.js", "worker", "--no-install", "--no-tests", "--unsandboxed"], {
          DATABASE_URL: fx.db.url as string,
          REDIS_URL: redisUrl(),
          QUEUE_PREFIX: config.prefix,
          METRICS_PORT: String(await freePort()),
          SENTRY_DSN: ingest.dsn,
          LOG_LEVEL: "info",
        });
        await waitFor(async () => worker.output().includes("worker started"), TIMEOUT / 2, worker.output());
        const sha = "0123456789abcdef0123456789abcdef01234567";
        const jobId = await createProducer(queue, config).enqueueCycle(
          { repositoryId: repo.id, repository: "local/gone", sha, trigger: "shadow", deliveryId: "delivery-77" },
          { trigger: "shadow" },
        );
        const job = await finishedJob(queue, jobId, TIMEOUT);
        expect(await job.getState()).toBe("failed");

        await waitFor(
          async () => ingest.events.length >= 2,
          30_000,
          `two events\n${ingest.requests.join("\n")}\n${worker.output()}`,
        );
        // Every request went to the DSN's project (its envelope endpoint).
        expect(ingest.requests.filter((r) => !r.startsWith("POST /api/42/envelope/?"))).toEqual([]);
        const tags = { deliveryId: "delivery-77", jobId, repository: "local/gone", sha, role: "worker" };
        expect(ingest.events.map((e) => ({ level: e.level, final: e.tags?.final }))).toEqual([
          { level: "warning", final: "false" },
          { level: "error", final: "true" },
        ]);
        for (const event of ingest.events) {
          expect(event.tags).toMatchObject(tags);
          expect(event.exception?.values?.at(-1)?.value).toBe(job.failedReason);
        }

        killGroup(worker, "SIGTERM");
        expect(await worker.exited).toBe(0);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
        await new Promise((r) => ingest.server.close(r));
      }
    },
    TIMEOUT,
  );

  it("with SENTRY_DSN unset or empty, Sentry is never initialised", async () => {
    expect(await initErrorReporting({}, { role: "worker" })).toBeNull();
    expect(await initErrorReporting({ SENTRY_DSN: "" }, { role: "worker" })).toBeNull();
    expect(await initErrorReporting({ SENTRY_DSN: "  " }, { role: "worker" })).toBeNull();
    expect(Sentry.isInitialized()).toBe(false);
    expect(Sentry.getClient()).toBeUndefined();
  });
});
