/**
 * The web process's webhook path for a describe block: real Postgres, a real Redis queue and the webhook handlers
 * behind the node:http server, driven by signed POSTs. Rows and jobs are emptied before each test unless
 * `reset: false`.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Queue } from "bullmq";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { type AppDeps, createWebhookHandler } from "../../../src/github/app.js";
import { createWebServer } from "../../../src/github/server.js";
import { createCyclesQueue, createProducer } from "../../../src/queue/producer.js";
import { createSchedules } from "../../../src/queue/schedules.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { producerConnection, resetRepositories, testQueueConfig } from "../../queue/helpers.js";
import type { Payload } from "./payloads.js";
import { postWebhook, WEBHOOK_SECRET } from "./probot.js";

export interface WebhookServer {
  /** Set once the block's beforeAll has run. */
  db: TestDb;
  queue: Queue;
  /** What the handlers were given: the database, the queue's producer and schedulers. */
  deps: AppDeps;
  /** The webhook endpoint. */
  url: string;
  /** POSTs a signed delivery, expects 200 and returns the handler's result ("enqueued", "ignored", …). */
  deliver(name: string, payload: Payload, id?: string): Promise<string>;
}

export function useWebhookServer(tag: string, o: { reset?: boolean } = {}): WebhookServer {
  const web = {} as WebhookServer;
  let server: Server | null = null;

  beforeAll(async () => {
    const db = await createTestDb("postgres");
    const config = testQueueConfig(tag);
    const queue = createCyclesQueue(config, producerConnection());
    const deps: AppDeps = { db: db.db, jobs: createProducer(queue, config), schedules: createSchedules(queue, config) };
    const listening = await createWebServer({
      webhooks: { secret: WEBHOOK_SECRET, handle: createWebhookHandler(deps) },
    });
    server = listening;
    await new Promise<void>((done) => listening.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/github/webhooks`;
    Object.assign(web, { db, queue, deps, url });
  });

  afterAll(async () => {
    const listening = server;
    if (listening) await new Promise((done) => listening.close(done));
    await web.queue?.obliterate({ force: true });
    await web.queue?.close();
    await web.db?.cleanup();
  });

  if (o.reset !== false) beforeEach(() => resetRepositories(web.db.db, web.queue));

  web.deliver = async (name, payload, id) => {
    const answer = await postWebhook(web.url, name, payload, id === undefined ? {} : { id });
    const body = (await answer.json()) as { result?: string; error?: string };
    expect(answer.status, body.error).toBe(200);
    return body.result as string;
  };
  return web;
}
