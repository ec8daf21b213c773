/**
 * bench:ingest — signed webhook deliveries per second through a real `odavl web` process (real Redis and Postgres),
 * over loopback HTTP, and a check that every distinct delivery was enqueued exactly once.
 *   npm run bench:ingest [-- --deliveries 2000 --concurrency 50 --duplicates 0.3 --json]
 * Uses DATABASE_URL's server (a fresh database, dropped afterwards) and REDIS_URL (a queue prefix of its own,
 * removed afterwards). Defaults: the local servers.
 */
import { spawn } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { CYCLES_QUEUE, redisConnection } from "../src/queue/config.js";
import { createCyclesQueue } from "../src/queue/producer.js";
import { pushPayload } from "../test/github/helpers/payloads.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean" },
    deliveries: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "50" },
    duplicates: { type: "string", default: "0" },
    repositories: { type: "string", default: "20" },
  },
});
const total = Number(values.deliveries);
const concurrency = Number(values.concurrency);
const duplicateShare = Number(values.duplicates);
const repositories = Number(values.repositories);
if (!(total > 0 && concurrency > 0 && duplicateShare >= 0 && duplicateShare < 1 && repositories > 0)) {
  console.error("bench:ingest: --deliveries, --concurrency, --repositories > 0 and --duplicates in [0, 1)");
  process.exit(2);
}
const pgServer = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "bench-webhook-secret";
const ROOT = resolve(import.meta.dirname, "..");

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

// The deliveries: distinct ones (each its own commit, so its own job), then repeats of some of them, shuffled.
interface Delivery {
  id: string;
  body: string;
}
const distinctCount = Math.round(total * (1 - duplicateShare));
interface Distinct extends Delivery {
  sha: string;
}
const distinct: Distinct[] = Array.from({ length: distinctCount }, (_, i) => {
  const r = i % repositories;
  const sha = randomBytes(20).toString("hex");
  const payload = pushPayload({ owner: "bench", name: `repo${r}`, githubId: 9000 + r, installationId: 7000 + r }, sha);
  return { id: randomUUID(), sha, body: JSON.stringify(payload) };
});
const all: Delivery[] = [...distinct];
while (all.length < total) all.push(distinct[Math.floor(Math.random() * distinct.length)] as Delivery);
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [all[i], all[j]] = [all[j] as Delivery, all[i] as Delivery];
}

const dbName = `odavl_bench_${randomBytes(4).toString("hex")}`;
const prefix = `odavl-bench-${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: pgServer });
await admin.connect();
await admin.query(`create database ${dbName}`);
const dbUrl = new URL(pgServer);
dbUrl.pathname = `/${dbName}`;
const port = await freePort();
const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs1", format: "pem" })
  .toString();
const web = spawn(process.execPath, ["bin/odavl.js", "web"], {
  cwd: ROOT,
  env: {
    ...process.env,
    APP_ID: "1",
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: SECRET,
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PORT: String(port),
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "ignore", "inherit"],
});
const queue = createCyclesQueue({ ...CYCLES_QUEUE, prefix }, redisConnection(redisUrl, "producer"));
const base = `http://127.0.0.1:${port}`;
try {
  for (let ready = false; !ready; ) {
    if (web.exitCode !== null) throw new Error(`odavl web exited ${web.exitCode}`);
    ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await sleep(200);
  }

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const send = async () => {
    for (let i = next++; i < all.length; i = next++) {
      const d = all[i] as Delivery;
      const t = performance.now();
      const res = await fetch(`${base}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": d.id,
          "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(d.body).digest("hex")}`,
        },
        body: d.body,
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, send));
  const seconds = (performance.now() - t0) / 1000;

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  // Push cycles only (each repository's first delivery also adds its schedule's job), counted per commit.
  const jobs = await queue.getJobs(["waiting", "prioritized", "delayed", "active", "completed", "failed"]);
  const perSha = new Map<string, number>();
  for (const job of jobs) {
    const data = job?.data as { trigger?: string; sha?: string } | undefined;
    if (data?.trigger === "push" && data.sha) perSha.set(data.sha, (perSha.get(data.sha) ?? 0) + 1);
  }
  const enqueued = perSha.size;
  const enqueuedTwice = [...perSha.values()].filter((n) => n > 1).length;
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
  const recorded = await db.query<{ result: string; n: string }>(
    "select result, count(*) as n from deliveries group by result",
  );
  await db.end();
  const figures = {
    deliveriesPerSecond: Math.round(all.length / seconds),
    p50Ms: Math.round(pct(0.5) * 10) / 10,
    p99Ms: Math.round(pct(0.99) * 10) / 10,
    sent: all.length,
    distinct: distinct.length,
    enqueued,
    duplicated: all.length - distinct.length,
    lost: distinct.length - enqueued,
  };
  if (values.json) {
    const { deliveriesPerSecond, p50Ms, p99Ms, sent, lost } = figures;
    console.log(JSON.stringify({ deliveriesPerSecond, p50Ms, p99Ms, sent, enqueued, lost }));
  } else {
    console.log(
      `deliveries:        ${figures.sent} sent (${figures.distinct} distinct, ${figures.duplicated} repeated)`,
    );
    console.log(`concurrency:       ${concurrency}`);
    console.log(`throughput:        ${figures.deliveriesPerSecond} deliveries/s`);
    console.log(`response time:     p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms`);
    console.log(`HTTP statuses:     ${JSON.stringify(Object.fromEntries(statuses))}`);
    console.log(
      `recorded:          ${JSON.stringify(Object.fromEntries(recorded.rows.map((r) => [r.result, Number(r.n)])))}`,
    );
    console.log(
      `enqueued:          ${enqueued} jobs (every distinct delivery exactly once: ${enqueued === distinct.length})`,
    );
    console.log(`enqueued twice:    ${enqueuedTwice}`);
    console.log(`lost:              ${figures.lost}`);
  }
  if (enqueued !== distinct.length || enqueuedTwice > 0) process.exitCode = 1;
} finally {
  web.kill("SIGTERM");
  await new Promise((r) => web.once("exit", r));
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}
