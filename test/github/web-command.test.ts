/** `odavl web` as deployed: a process that serves signed webhooks, queues cycles, and stops cleanly on SIGTERM. */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { producerConnection, redisUrl, testQueueConfig, waitFor } from "../queue/helpers.js";
import { pushPayload } from "./helpers/payloads.js";
import { postWebhook, WEBHOOK_SECRET } from "./helpers/probot.js";

const ROOT = resolve(import.meta.dirname, "../..");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

describe("odavl web", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb("postgres");
  });
  afterAll(async () => {
    await db.cleanup();
  });

  it("without the webhook secret, exits 2 naming what is missing", async () => {
    const child = spawn(process.execPath, ["bin/odavl.js", "web"], {
      cwd: ROOT,
      env: { ...process.env, WEBHOOK_SECRET: "", DATABASE_URL: db.url as string, REDIS_URL: redisUrl() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(stderr).toContain("odavl web needs WEBHOOK_SECRET in the environment");
    expect(code).toBe(2);
  }, 60_000);

  it("serves webhooks, answers health checks, and exits 0 on SIGTERM", async () => {
    const config = testQueueConfig("web-command");
    const port = await freePort();
    const child = spawn(process.execPath, ["bin/odavl.js", "web"], {
      cwd: ROOT,
      env: {
        ...process.env,
        // No APP_ID or PRIVATE_KEY: only the worker calls GitHub.
        WEBHOOK_SECRET,
        DATABASE_URL: db.url as string,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: config.prefix,
        PORT: String(port),
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const queue = createCyclesQueue(config, producerConnection());
    try {
      await waitFor(async () => output.includes("serving webhooks"), 90_000, `odavl web to start\n${output}`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, "ok\n"]);

      const sha = "d".repeat(40);
      const id = randomUUID();
      const answer = await postWebhook(
        `http://127.0.0.1:${port}/api/github/webhooks`,
        "push",
        pushPayload({ owner: "acme", name: "demo", githubId: 1001, installationId: 4001 }, sha),
        { id },
      );
      expect(answer.status).toBe(200);
      expect(await queryRows(db.db, sql`select id, result from deliveries`)).toEqual([{ id, result: "enqueued" }]);
      // The delivery log has its own pool (asynchronous commit), beside the one for everything else.
      const pools = await queryRows<{ name: string }>(
        db.db,
        sql`select distinct application_name as name from pg_stat_activity
            where datname = current_database() and application_name like 'odavl-web%' order by 1`,
      );
      expect(pools.map((p) => p.name)).toEqual(["odavl-web", "odavl-web-deliveries"]);
      expect(await queue.getJob(`cycle-r1-${sha}-push`)).toBeDefined();

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 120_000);
  it("listens while Redis is down at start-up: /healthz 200, /readyz 503, deliveries 503", async () => {
    const port = await freePort();
    const deadRedis = await freePort();
    const child = spawn(process.execPath, ["bin/odavl.js", "web"], {
      cwd: ROOT,
      env: {
        ...process.env,
        WEBHOOK_SECRET,
        DATABASE_URL: db.url as string,
        REDIS_URL: `redis://127.0.0.1:${deadRedis}`,
        QUEUE_PREFIX: testQueueConfig("web-no-redis").prefix,
        PORT: String(port),
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      await waitFor(async () => output.includes("serving webhooks"), 90_000, `odavl web to start\n${output}`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, "ok\n"]);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      const answer = await postWebhook(
        `http://127.0.0.1:${port}/api/github/webhooks`,
        "push",
        pushPayload({ owner: "acme", name: "demo", githubId: 1001, installationId: 4001 }, "e".repeat(40)),
      );
      expect(answer.status).toBe(503);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
