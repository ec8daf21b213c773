/** The web process as deployed: health, readiness (and unreadiness), metrics and the dashboard's guard. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { pushPayload } from "../github/helpers/payloads.js";
import { postWebhook, testPrivateKey, WEBHOOK_SECRET } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { producerConnection, redisUrl, testQueueConfig, waitFor } from "../queue/helpers.js";
import { freePort, startThrowawayRedis, startWeb } from "./helpers.js";

const OPERATOR_TOKEN = "operator-test-token";

describe("odavl web: operations endpoints", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb("postgres");
  });
  afterAll(async () => {
    await db.cleanup();
  });

  const baseEnv = async (prefix: string, redis: string) => ({
    APP_ID: "1",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    DATABASE_URL: db.url as string,
    REDIS_URL: redis,
    QUEUE_PREFIX: prefix,
    OPERATOR_TOKEN,
    PORT: String(await freePort()),
  });

  it("answers /healthz, /readyz, /metrics and guards /dashboard", async () => {
    const config = testQueueConfig("production-web");
    const env = await baseEnv(config.prefix, redisUrl());
    const base = `http://127.0.0.1:${env.PORT}`;
    const web = await startWeb(env);
    const queue = createCyclesQueue(config, producerConnection());
    try {
      const health = await fetch(`${base}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, "ok\n"]);

      const ready = await fetch(`${base}/readyz`);
      const body = (await ready.json()) as Record<string, { ok?: boolean; loaded?: boolean; fallback?: unknown }>;
      expect(ready.status, JSON.stringify(body)).toBe(200);
      expect(body.ready).toBe(true);
      expect(body.postgres?.ok).toBe(true);
      expect(body.redis?.ok).toBe(true);
      // The shipped model loads, or the body says which fallback is active.
      expect(body.model?.loaded === true || typeof body.model?.fallback === "string").toBe(true);

      const sha = "e".repeat(40);
      const answer = await postWebhook(
        `${base}/api/github/webhooks`,
        "push",
        pushPayload({ owner: "acme", name: "ops", githubId: 2001, installationId: 5001 }, sha),
        { id: randomUUID() },
      );
      expect(answer.status).toBe(200);
      const bad = await postWebhook(`${base}/api/github/webhooks`, "push", { zen: "x" }, { signature: "sha256=00" });
      expect(bad.status).toBeGreaterThanOrEqual(400);

      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toContain("text/plain");
      const text = await metrics.text();
      expect(text).toMatch(/odavl_webhook_deliveries_total\{event="push",result="accepted",role="web"\} 1/);
      expect(text).toMatch(/odavl_webhook_deliveries_total\{event="push",result="rejected",role="web"\} 1/);
      expect(text).toMatch(/odavl_webhook_duration_seconds_count\{[^}]*result="accepted"[^}]*\} 1\n/);
      expect(text).toMatch(/odavl_webhook_duration_seconds_bucket\{le="10",[^}]*result="accepted"[^}]*\} 1\n/);
      expect(text).toMatch(/odavl_queue_jobs\{state="prioritized",role="web"\} 1/);
      for (const name of [
        "odavl_queue_jobs",
        "odavl_cycle_phase_duration_seconds",
        "odavl_candidates_total",
        "odavl_prediction_latency_seconds",
        "odavl_model_fallbacks_total",
        "odavl_sandbox_kills_total",
        "odavl_github_requests_total",
        "odavl_github_rate_limit_waits_total",
      ])
        expect(text).toContain(`# TYPE ${name} `);

      const anonymous = await fetch(`${base}/dashboard`);
      expect(anonymous.status).toBe(401);
      await anonymous.text();
      const wrong = await fetch(`${base}/dashboard`, { headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      await wrong.text();
      const operator = await fetch(`${base}/dashboard/progress.json`, {
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      });
      expect(operator.status).toBe(200);
      await operator.json();

      expect(await web.stop()).toBe(0);
    } finally {
      await web.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 120_000);

  it("answers /readyz 503 when Redis is unreachable, while /healthz stays 200", async () => {
    const redis = await startThrowawayRedis();
    const config = testQueueConfig("production-ready");
    const env = await baseEnv(config.prefix, redis.url);
    const base = `http://127.0.0.1:${env.PORT}`;
    const web = await startWeb(env);
    try {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await redis.stop();
      const down = await waitFor(
        async () => {
          const r = await fetch(`${base}/readyz`);
          return r.status === 503 ? ((await r.json()) as Record<string, { ok?: boolean; error?: string }>) : null;
        },
        15_000,
        "/readyz to answer 503",
      );
      expect(down.ready).toBe(false);
      expect(down.redis?.ok).toBe(false);
      expect(down.postgres?.ok).toBe(true);
      // Liveness is not readiness: the process is up.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await web.stop();
      await redis.stop();
    }
  }, 120_000);
});
