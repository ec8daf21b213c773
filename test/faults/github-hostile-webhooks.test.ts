/**
 * Hostile and broken webhook deliveries, correctly signed (a leaked secret, a buggy proxy, GitHub itself sending
 * something new): 10,000 payloads mutated by fast-check from the real example payloads in test/fixtures/github.
 * None is answered 5xx, none throws out of the server, and memory stays flat. Bodies larger than GitHub ever
 * sends are refused with 413 before they are parsed, whether their length is declared or not.
 */
import { randomUUID } from "node:crypto";
import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { createWebhookHandler } from "../../src/github/app.js";
import { createWebServer, MAX_WEBHOOK_BYTES } from "../../src/github/server.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import { createSchedules } from "../../src/queue/schedules.js";
import { type FixtureName, fixture, type Payload } from "../github/helpers/payloads.js";
import { sign, WEBHOOK_SECRET } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { producerConnection, testQueueConfig } from "../queue/helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const FIXTURES: { file: FixtureName; event: string }[] = [
  { file: "push", event: "push" },
  { file: "pull_request.opened", event: "pull_request" },
  { file: "check_suite.rerequested", event: "check_suite" },
  { file: "check_run.requested_action", event: "check_run" },
  { file: "installation.created", event: "installation" },
  { file: "installation.deleted", event: "installation" },
  { file: "installation_repositories.removed", event: "installation_repositories" },
];

type Path = (string | number)[];

/** Every path to a value in the payload (objects and arrays included), up to a depth. */
function pathsOf(value: unknown, depth = 6, prefix: Path = []): Path[] {
  if (depth === 0 || typeof value !== "object" || value === null) return [];
  const out: Path[] = [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    out.push([...prefix, key]);
    out.push(...pathsOf(child, depth - 1, [...prefix, key]));
  }
  return out;
}

const HOSTILE_STRINGS = [
  "",
  "\u0000",
  "a\u0000b",
  "x".repeat(100_000),
  "\u001b[31mred\u001b[0m",
  "'; drop table deliveries; --",
  "../../etc/passwd",
  "\ud800",
  "refs/heads/main",
  "0".repeat(40),
  "f".repeat(40),
  "<script>alert(1)</script>",
  "🙂".repeat(1000),
];
const HOSTILE_NUMBERS = [0, -1, 1.5, 2 ** 53, 2 ** 63, Number.MAX_VALUE, 1e-300, 7];

const mutation = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom("delete", "replace", "string", "number", "type", "keep"),
  value: fc.jsonValue({ maxDepth: 3 }),
  hostile: fc.nat(),
});
const delivery = fc.record({
  fixture: fc.nat({ max: FIXTURES.length - 1 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  /** Sometimes another event's name for the payload, or a name we do not handle. */
  event: fc.option(fc.constantFrom("push", "pull_request", "check_run", "installation", "issues", "ping"), {
    freq: 5,
  }),
  /** Sometimes a delivery id sent before (a repeat). */
  repeat: fc.boolean(),
});

type Input = typeof delivery extends fc.Arbitrary<infer T> ? T : never;

const FIXTURE_PATHS = FIXTURES.map((f) => pathsOf(fixture(f.file)));

function mutate(input: Input): { event: string; body: string } {
  const f = FIXTURES[input.fixture] as (typeof FIXTURES)[number];
  const payload = fixture(f.file);
  const paths = FIXTURE_PATHS[input.fixture] as Path[];
  for (const m of input.mutations) {
    const path = paths[m.path % paths.length] as Path;
    const parent = path.slice(0, -1).reduce<Payload | undefined>((o, k) => o?.[k as string], payload);
    const key = path.at(-1) as string;
    if (typeof parent !== "object" || parent === null) continue;
    switch (m.kind) {
      case "delete":
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case "replace":
        parent[key] = m.value;
        break;
      case "string":
        parent[key] = HOSTILE_STRINGS[m.hostile % HOSTILE_STRINGS.length];
        break;
      case "number":
        parent[key] = HOSTILE_NUMBERS[m.hostile % HOSTILE_NUMBERS.length];
        break;
      case "type":
        parent[key] = Array.isArray(parent[key]) ? {} : typeof parent[key] === "object" ? [] : { value: parent[key] };
        break;
      case "keep":
        break;
    }
  }
  return { event: input.event ?? f.event, body: JSON.stringify(payload) };
}

describe("hostile webhook deliveries", () => {
  let db: TestDb;
  let queue: Queue;
  let server: Server;
  let url: string;
  const failures: unknown[] = [];
  /** What the server logged as failed (the first few). */
  const logged: string[] = [];
  const onFailure = (err: unknown) => failures.push(err);

  beforeAll(async () => {
    db = await createTestDb("postgres");
    const config = testQueueConfig("hostile");
    queue = createCyclesQueue(config, producerConnection());
    const handle = createWebhookHandler({
      db: db.db,
      jobs: createProducer(queue, config),
      schedules: createSchedules(queue, config),
    });
    const logger = pino(
      { level: "error" },
      { write: (line: string) => void (logged.length < 5 && logged.push(JSON.parse(line).err?.message ?? line)) },
    );
    server = await createWebServer({ webhooks: { secret: WEBHOOK_SECRET, handle }, logger });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
    process.on("uncaughtException", onFailure);
    process.on("unhandledRejection", onFailure);
  });

  afterAll(async () => {
    process.off("uncaughtException", onFailure);
    process.off("unhandledRejection", onFailure);
    await new Promise((resolve) => server.close(resolve));
    await queue.obliterate({ force: true });
    await queue.close();
    await db.cleanup();
  });

  it("answers 10,000 mutated, signed payloads without a 5xx, an uncaught error or a growing heap", async () => {
    const inputs = fc.sample(delivery, { numRuns: 10_000, seed: 20261127 });
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    const sentIds: string[] = [];
    const latencies: { ms: number; what: string }[] = [];
    let heapBefore = 0;
    const send = async (i: number) => {
      const input = inputs[i] as Input;
      const { event, body } = mutate(input);
      const id = input.repeat && sentIds.length > 0 ? (sentIds[i % sentIds.length] as string) : randomUUID();
      sentIds.push(id);
      const t = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": id,
          "x-hub-signature-256": sign(body),
        },
        body,
      });
      const text = await res.text();
      latencies.push({ ms: performance.now() - t, what: `${event} ${res.status} ${text.slice(0, 60)}` });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 && serverErrors.length < 5) serverErrors.push(`${res.status} ${event}: ${text}`);
    };
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < inputs.length; i = next++) {
        await send(i);
        if (i === 1_000) {
          gc();
          heapBefore = process.memoryUsage().heapUsed;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const [recorded] = await queryRows<{ n: number }>(db.db, sql`select count(*)::int as n from deliveries`);
    console.log(
      `hostile payloads: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, ` +
        `deliveries recorded ${recorded?.n}, jobs ${await queue.count()}, ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} MB after 1,000 -> ${(heapAfter / 2 ** 20).toFixed(1)} MB after 10,000`,
    );
    latencies.sort((a, b) => b.ms - a.ms);
    console.log(
      `slowest answers: ${latencies
        .slice(0, 5)
        .map((l) => `${l.ms.toFixed(0)} ms ${l.what}`)
        .join("; ")}`,
    );
    expect(serverErrors, `${serverErrors.join("\n")}\n${logged.join("\n")}`).toEqual([]);
    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((s) => s === 200 || s === 400)).toBe(true);
    // Both kinds really occurred: the mutations reach the handlers, not only the validation.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
    expect(heapAfter - heapBefore).toBeLessThan(40 * 2 ** 20);
  }, 900_000);

  /** POSTs raw bytes (declared length or chunked) and resolves the status, even if the server closes early. */
  function postRaw(body: Buffer, o: { declareLength: boolean; id: string }): Promise<{ status: number; ms: number }> {
    const signature = sign(body.toString("utf8"));
    const t = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": o.id,
          "x-hub-signature-256": signature,
          ...(o.declareLength ? { "content-length": String(body.length) } : { "transfer-encoding": "chunked" }),
        },
      });
      req.once("response", (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t });
      });
      req.once("error", (err) => reject(err));
      // Sent in pieces, as a client over a real network would.
      const piece = 1024 * 1024;
      let offset = 0;
      const write = () => {
        while (offset < body.length) {
          const chunk = body.subarray(offset, offset + piece);
          offset += piece;
          if (!req.write(chunk)) {
            req.once("drain", write);
            return;
          }
        }
        req.end();
      };
      write();
    });
  }

  it("refuses bodies larger than GitHub sends with 413, before reading or parsing them", async () => {
    // A valid, correctly signed push padded past the limit: only its size is wrong.
    const payload = fixture("push");
    payload.padding = "x".repeat(MAX_WEBHOOK_BYTES);
    const body = Buffer.from(JSON.stringify(payload));
    const ids = [randomUUID(), randomUUID()];
    const declared = await postRaw(body, { declareLength: true, id: ids[0] as string });
    const chunked = await postRaw(body, { declareLength: false, id: ids[1] as string });
    console.log(
      `oversized bodies: declared ${declared.status} in ${declared.ms.toFixed(0)} ms, chunked ${chunked.status}`,
    );
    expect([declared.status, chunked.status]).toEqual([413, 413]);
    // Refused from its headers, without reading the 25 MB.
    expect(declared.ms).toBeLessThan(1_000);
    // Neither reached a handler.
    const recorded = await queryRows(db.db, sql`select id from deliveries where id in (${ids[0]}, ${ids[1]})`);
    expect(recorded).toEqual([]);
    // The server still serves afterwards.
    const ok = await fetch(url.replace("/api/github/webhooks", "/healthz"));
    expect(ok.status).toBe(200);
  });
});
