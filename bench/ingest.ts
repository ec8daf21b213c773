/**
 * bench:ingest — signed webhook deliveries per second through a real `odavl web` process (real Redis and Postgres),
 * over loopback HTTP, and a check that every distinct delivery was enqueued exactly once.
 *   npm run bench:ingest [-- --deliveries 2000 --concurrency 50 --duplicates 0.3 --rate 200 --json]
 * Uses DATABASE_URL's server (a fresh database, dropped afterwards) and REDIS_URL (a queue prefix of its own,
 * removed afterwards). Defaults: the local servers.
 *
 * The machinery (starting a web process, making and sending signed deliveries, counting jobs) is exported for the
 * load tests of the fault suite (test/faults/load-*.test.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Queue } from "bullmq";
import pg from "pg";
import { CYCLES_QUEUE, redisConnection } from "../src/queue/config.js";
import { createCyclesQueue } from "../src/queue/producer.js";
import { installationPayload, pushPayload } from "../test/github/helpers/payloads.js";

export const BENCH_SECRET = "bench-webhook-secret";
const ROOT = resolve(import.meta.dirname, "..");

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

let benchKey: string | null = null;
function privateKey(): string {
  benchKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
  return benchKey;
}

export interface WebProcess {
  base: string;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote (stdout and stderr). */
  output(): string;
  /** CPU time (user + system) the process used so far, in ms (Linux). */
  cpuMs(): number;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`, resolving null). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts `odavl web` and waits until /readyz answers 200. */
export async function startWeb(o: {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  secret?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<WebProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), "bin/odavl.js", "web"], {
    cwd: ROOT,
    env: {
      ...process.env,
      APP_ID: "1",
      PRIVATE_KEY: privateKey(),
      WEBHOOK_SECRET: o.secret ?? BENCH_SECRET,
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl,
      QUEUE_PREFIX: o.queuePrefix,
      PORT: String(port),
      LOG_LEVEL: "warn",
      ...o.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const base = `http://127.0.0.1:${port}`;
  const web: WebProcess = {
    base,
    url: `${base}/api/github/webhooks`,
    child,
    output: () => output,
    cpuMs: () => {
      try {
        const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second).
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return Number.NaN;
      }
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const code = await Promise.race([exited, sleep(timeoutMs).then(() => "timeout" as const)]);
      if (code !== "timeout") return code;
      child.kill("SIGKILL");
      await exited;
      return null;
    },
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`odavl web exited ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return web;
    if (Date.now() > deadline) {
      await web.stop();
      throw new Error(`odavl web was not ready in time:\n${output}`);
    }
    await sleep(200);
  }
}

export interface Delivery {
  id: string;
  body: string;
  /** X-GitHub-Event; "push" when absent. */
  event?: string;
  /** The commit it pushes (one job per distinct commit). */
  sha: string;
}

/** Distinct pushes (each its own commit, so its own job), then repeats of some of them, shuffled. */
export function makeDeliveries(o: { total: number; duplicates: number; repositories: number }): {
  all: Delivery[];
  distinct: Delivery[];
} {
  const distinctCount = Math.round(o.total * (1 - o.duplicates));
  const distinct: Delivery[] = Array.from({ length: distinctCount }, (_, i) => {
    const r = i % o.repositories;
    const sha = randomBytes(20).toString("hex");
    const payload = pushPayload(
      { owner: "bench", name: `repo${r}`, githubId: 9000 + r, installationId: 7000 + r },
      sha,
    );
    return { id: randomUUID(), sha, body: JSON.stringify(payload) };
  });
  const all: Delivery[] = [...distinct];
  while (all.length < o.total) all.push(distinct[Math.floor(Math.random() * distinct.length)] as Delivery);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j] as Delivery, all[i] as Delivery];
  }
  return { all, distinct };
}

export function signature(body: string, secret = BENCH_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface SendResult {
  delivery: Delivery;
  status: number;
  ms: number;
}

/** POSTs one signed push delivery; a connection error is status 0. */
export async function sendDelivery(url: string, d: Delivery, secret = BENCH_SECRET): Promise<SendResult> {
  const t = performance.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": d.event ?? "push",
        "x-github-delivery": d.id,
        "x-hub-signature-256": signature(d.body, secret),
      },
      body: d.body,
    });
    await res.arrayBuffer();
    return { delivery: d, status: res.status, ms: performance.now() - t };
  } catch {
    return { delivery: d, status: 0, ms: performance.now() - t };
  }
}

/**
 * Sends every delivery: `concurrency` at a time as fast as they are answered, or, with `ratePerSecond`, each at its
 * scheduled time (an open loop: a slow answer does not slow the sending down, up to `concurrency` in flight).
 */
export async function sendAll(
  url: string,
  deliveries: readonly Delivery[],
  o: { concurrency: number; ratePerSecond?: number; secret?: string; onResult?: (r: SendResult) => void },
): Promise<{ results: SendResult[]; seconds: number }> {
  const results: SendResult[] = [];
  let next = 0;
  const t0 = performance.now();
  const send = async () => {
    for (let i = next++; i < deliveries.length; i = next++) {
      if (o.ratePerSecond) {
        const due = t0 + (i * 1000) / o.ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const r = await sendDelivery(url, deliveries[i] as Delivery, o.secret);
      results.push(r);
      o.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, send));
  return { results, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The web process's own view of its answers: the accepted deliveries' response-time histogram
 * (odavl_webhook_duration_seconds), cumulative counts by upper bound in seconds.
 */
export async function serverDurations(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^odavl_webhook_duration_seconds_bucket\{le="([^"]+)",([^}]*)\} (\d+)$/gm)) {
    if ((m[2] as string).includes('result="accepted"')) out.set(m[1] as string, Number(m[3]));
  }
  return out;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Push cycle jobs per commit (each repository's first delivery also adds its schedule's job, not counted). */
export async function pushJobsPerSha(queue: Queue): Promise<Map<string, number>> {
  const jobs = await queue.getJobs(["waiting", "prioritized", "delayed", "active", "completed", "failed"]);
  const perSha = new Map<string, number>();
  for (const job of jobs) {
    const data = job?.data as { trigger?: string; sha?: string } | undefined;
    if (data?.trigger === "push" && data.sha) perSha.set(data.sha, (perSha.get(data.sha) ?? 0) + 1);
  }
  return perSha;
}

/** Jobs waiting to run (waiting, prioritized, delayed). */
export async function queueDepth(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("waiting", "prioritized", "delayed");
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
}

export interface IngestOptions {
  deliveries: number;
  concurrency: number;
  /** Share of the deliveries that repeat an earlier one, in [0, 1). */
  duplicates: number;
  repositories: number;
  /** Open-loop sending at this many deliveries a second (default: as fast as answered). */
  ratePerSecond?: number;
  /** The Postgres server (a database is created on it and dropped) and the Redis. */
  pgServer: string;
  redisUrl: string;
  nodeArgs?: string[];
}

export interface IngestFigures {
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sent: number;
  distinct: number;
  duplicated: number;
  /** Distinct commits with a push job. */
  enqueued: number;
  /** Distinct commits with more than one push job. */
  enqueuedTwice: number;
  /** Distinct commits without a job. */
  lost: number;
  /** Distinct deliveries answered 2xx at least once whose commit has no job. */
  acceptedLost: number;
  statuses: Record<string, number>;
  recorded: Record<string, number>;
  /** Largest number of jobs waiting to run, sampled every 100 ms while sending. */
  maxQueueDepth: number;
  /** CPU time of the web process per delivery (user + system). */
  webCpuMsPerDelivery: number;
  /**
   * The web process's own view (its odavl_webhook_duration_seconds histogram): accepted deliveries, and how many it
   * took over 100, 200 and 500 ms to answer. Beside the sender's percentiles it tells time spent in the process
   * from time spent around it.
   */
  server: { accepted: number; over100Ms: number; over200Ms: number; over500Ms: number };
}

/** The whole benchmark: a fresh database and queue prefix, a web process, the deliveries, the figures. */
export async function runIngest(o: IngestOptions): Promise<IngestFigures> {
  const { all, distinct } = makeDeliveries({
    total: o.deliveries,
    duplicates: o.duplicates,
    repositories: o.repositories,
  });
  const dbName = `odavl_bench_${randomBytes(4).toString("hex")}`;
  const prefix = `odavl-bench-${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: o.pgServer });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const dbUrl = new URL(o.pgServer);
  dbUrl.pathname = `/${dbName}`;
  const queue = createCyclesQueue({ ...CYCLES_QUEUE, prefix }, redisConnection(o.redisUrl, "producer"));
  let web: WebProcess | null = null;
  try {
    web = await startWeb({
      databaseUrl: dbUrl.toString(),
      redisUrl: o.redisUrl,
      queuePrefix: prefix,
      ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
    });
    let maxQueueDepth = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxQueueDepth = Math.max(maxQueueDepth, await queueDepth(queue).catch(() => 0));
        await sleep(100);
      }
    })();
    // As on GitHub, each installation is created (and its repositories registered) before its pushes arrive: the
    // figures are those of sustained load on installed repositories, not of first-contact registration.
    const installations: Delivery[] = Array.from({ length: o.repositories }, (_, r) => ({
      id: randomUUID(),
      sha: "",
      event: "installation",
      body: JSON.stringify(
        installationPayload("installation.created", 7000 + r, "bench", [{ id: 9000 + r, name: `repo${r}` }]),
      ),
    }));
    const setup = await sendAll(web.url, installations, { concurrency: 4 });
    const refused = setup.results.filter((r) => r.status < 200 || r.status >= 300);
    if (refused.length > 0)
      throw new Error(`installation deliveries refused: ${refused.map((r) => r.status).join(", ")}`);
    const durationsBefore = await serverDurations(web.base);
    const cpuBefore = web.cpuMs();
    const { results, seconds } = await sendAll(web.url, all, {
      concurrency: o.concurrency,
      ...(o.ratePerSecond ? { ratePerSecond: o.ratePerSecond } : {}),
    });
    const cpuAfter = web.cpuMs();
    const durationsAfter = await serverDurations(web.base);
    const within = (le: string) => (durationsAfter.get(le) ?? 0) - (durationsBefore.get(le) ?? 0);
    const answered = within("+Inf");
    const server = {
      accepted: answered,
      over100Ms: answered - within("0.1"),
      over200Ms: answered - within("0.2"),
      over500Ms: answered - within("0.5"),
    };
    sampling = false;
    await sampler;
    maxQueueDepth = Math.max(maxQueueDepth, await queueDepth(queue));

    const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    const accepted = new Set<string>();
    for (const r of results) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status >= 200 && r.status < 300) accepted.add(r.delivery.sha);
    }
    const perSha = await pushJobsPerSha(queue);
    const enqueued = distinct.filter((d) => perSha.has(d.sha)).length;
    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    const recorded = await db.query<{ result: string; n: string }>(
      "select result, count(*) as n from deliveries where event = 'push' group by result",
    );
    await db.end();
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      deliveriesPerSecond: Math.round(all.length / seconds),
      p50Ms: round(percentile(latencies, 0.5)),
      p99Ms: round(percentile(latencies, 0.99)),
      maxMs: round(latencies.at(-1) ?? 0),
      sent: all.length,
      distinct: distinct.length,
      duplicated: all.length - distinct.length,
      enqueued,
      enqueuedTwice: [...perSha.values()].filter((n) => n > 1).length,
      lost: distinct.length - enqueued,
      acceptedLost: [...accepted].filter((sha) => !perSha.has(sha)).length,
      statuses,
      recorded: Object.fromEntries(recorded.rows.map((r) => [r.result, Number(r.n)])),
      maxQueueDepth,
      webCpuMsPerDelivery: round((cpuAfter - cpuBefore) / all.length),
      server,
    };
  } finally {
    await web?.stop();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean" },
      deliveries: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "50" },
      duplicates: { type: "string", default: "0" },
      repositories: { type: "string", default: "20" },
      rate: { type: "string" },
      "node-args": { type: "string" },
    },
  });
  const options: IngestOptions = {
    deliveries: Number(values.deliveries),
    concurrency: Number(values.concurrency),
    duplicates: Number(values.duplicates),
    repositories: Number(values.repositories),
    ...(values.rate ? { ratePerSecond: Number(values.rate) } : {}),
    ...(values["node-args"] ? { nodeArgs: values["node-args"].split(" ") } : {}),
    pgServer: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
  if (
    !(
      options.deliveries > 0 &&
      options.concurrency > 0 &&
      options.duplicates >= 0 &&
      options.duplicates < 1 &&
      options.repositories > 0 &&
      (options.ratePerSecond === undefined || options.ratePerSecond > 0)
    )
  ) {
    console.error("bench:ingest: --deliveries, --concurrency, --repositories, --rate > 0 and --duplicates in [0, 1)");
    process.exit(2);
  }
  const f = await runIngest(options);
  if (values.json) {
    console.log(JSON.stringify(f));
  } else {
    console.log(`deliveries:        ${f.sent} sent (${f.distinct} distinct, ${f.duplicated} repeated)`);
    console.log(
      `sending:           ${options.ratePerSecond ? `${options.ratePerSecond}/s, ` : ""}${options.concurrency} at most at once`,
    );
    console.log(`throughput:        ${f.deliveriesPerSecond} deliveries/s`);
    console.log(`response time:     p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms`);
    console.log(`web CPU:           ${f.webCpuMsPerDelivery} ms per delivery`);
    const s = f.server;
    console.log(
      `in the web process: ${s.accepted} accepted; over 100 ms ${s.over100Ms}, over 200 ms ${s.over200Ms}, over 500 ms ${s.over500Ms}`,
    );
    console.log(`HTTP statuses:     ${JSON.stringify(f.statuses)}`);
    console.log(`recorded:          ${JSON.stringify(f.recorded)}`);
    console.log(
      `enqueued:          ${f.enqueued} jobs (every distinct delivery exactly once: ${f.enqueued === f.distinct})`,
    );
    console.log(`enqueued twice:    ${f.enqueuedTwice}`);
    console.log(`lost:              ${f.lost}`);
    console.log(`max queue depth:   ${f.maxQueueDepth}`);
  }
  if (f.enqueued !== f.distinct || f.enqueuedTwice > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
