/**
 * The web process's HTTP server: the webhook endpoint, health and readiness checks, metrics, and the operator
 * dashboard.
 *
 * The webhook endpoint, in order: the method, content type and GitHub's headers are checked; a body larger than
 * GitHub ever sends is refused (413) before it is read, or as soon as it grows past the limit; the signature
 * (X-Hub-Signature-256, HMAC-SHA256 of the raw body) is verified before the body is parsed, and a missing or wrong
 * one is answered 400 and reaches no handler; the JSON is parsed and handed to the handler.
 *
 * A 2xx answer means the delivery was handled: its job is in the queue. A handler that fails (Redis or Postgres
 * unreachable) or does not finish within {@link HANDLER_DEADLINE_MS} is answered 503, so GitHub shows a failed
 * delivery that can be redelivered; a redelivery is recognised by its id and job ids are deterministic, so a
 * handler that still finished after its 503 is never run twice.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { type ReadinessChecks, serveReadiness } from "../observability/health.js";
import { type Prometheus, servePrometheus } from "../observability/prometheus.js";
import { type WebhookHandler, WebhookPayloadError } from "./app.js";

const WEBHOOK_PATH = "/api/github/webhooks";

/** GitHub caps webhook payloads at 25 MB and does not deliver larger ones: nothing larger comes from GitHub. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** A delivery not handled within this is answered 503 (GitHub gives up after 10 s). */
const HANDLER_DEADLINE_MS = 8_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookEndpoint {
  secret: string;
  handle: WebhookHandler;
  path?: string;
  maxBytes?: number;
  deadlineMs?: number;
}

export async function createWebServer(o: {
  webhooks: WebhookEndpoint;
  readiness?: ReadinessChecks;
  prometheus?: Prometheus;
  dashboard?: Handler;
  logger?: Logger;
}): Promise<Server> {
  const webhookPath = o.webhooks.path ?? WEBHOOK_PATH;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (req.method === "GET" && path === "/readyz" && o.readiness) return serveReadiness(o.readiness, res);
    if (req.method === "GET" && path === "/metrics" && o.prometheus) return servePrometheus(o.prometheus.registry, res);
    if (o.dashboard && (path === "/dashboard" || path?.startsWith("/dashboard/"))) return o.dashboard(req, res);
    if (path === webhookPath) {
      if (o.prometheus && req.method === "POST") countDelivery(o.prometheus, req, res);
      serveWebhook(o.webhooks, req, res, o.logger).catch((err: unknown) => {
        o.logger?.error({ err }, "webhook endpoint failed");
        if (!res.headersSent) answer(res, 500, { error: "internal error" });
        else res.destroy();
      });
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  // Slow clients may not hold a connection open for ever (slowloris): the whole request within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
      ...headers,
    })
    .end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Refuses the rest of a body that is too large: the answer, then the connection is closed without reading on. */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  answer(res, 413, { error: `payload larger than ${maxBytes} bytes` }, { connection: "close" });
  res.once("finish", () => req.socket.destroySoon());
}

/** The body, or null when it grew past `maxBytes` (the 413 has been sent then). */
function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        req.off("data", onData);
        req.pause();
        chunks.length = 0;
        refuseTooLarge(req, res, maxBytes);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.once("error", (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
/** GitHub's event names: lower case, digits and underscores (`projects_v2_item`). */
const EVENT_NAME = /^[a-z0-9_]{1,64}$/;
/** GitHub's delivery ids are GUIDs; anything printable and short is accepted. */
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function signatureMatches(secret: string, body: Buffer, signature: string): boolean {
  const match = SIGNATURE.exec(signature);
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1] as string, "hex"));
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`delivery not handled within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Errors that are bugs of ours (500); anything else is a collaborator being unavailable (503). */
function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
}

async function serveWebhook(
  o: WebhookEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger | undefined,
): Promise<void> {
  const maxBytes = o.maxBytes ?? MAX_WEBHOOK_BYTES;
  if (req.method !== "POST") {
    answer(res, 405, { error: "POST only" }, { allow: "POST" });
    return;
  }
  const contentType = header(req, "content-type");
  if (!contentType || !/^\s*application\/json\s*(?:;|$)/i.test(contentType)) {
    answer(res, 415, { error: 'content-type must be "application/json"' });
    return;
  }
  const declared = header(req, "content-length");
  if (declared !== undefined && Number(declared) > maxBytes) {
    refuseTooLarge(req, res, maxBytes);
    return;
  }
  const name = header(req, "x-github-event");
  const id = header(req, "x-github-delivery");
  const signature = header(req, "x-hub-signature-256");
  if (!name || !id || !signature) {
    req.resume();
    answer(res, 400, { error: "x-github-event, x-github-delivery and x-hub-signature-256 are required" });
    return;
  }
  const body = await readBody(req, res, maxBytes);
  if (body === null) return;
  if (!signatureMatches(o.secret, body, signature)) {
    answer(res, 400, { error: "signature does not match the payload" });
    return;
  }
  if (!EVENT_NAME.test(name) || !DELIVERY_ID.test(id)) {
    answer(res, 400, { error: "malformed x-github-event or x-github-delivery" });
    return;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    answer(res, 400, { error: "the payload is not JSON" });
    return;
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    answer(res, 400, { error: "the payload is not a JSON object" });
    return;
  }
  try {
    const outcome = await withDeadline(o.handle({ id, name, payload }), o.deadlineMs ?? HANDLER_DEADLINE_MS);
    answer(res, 200, outcome);
  } catch (err) {
    if (err instanceof WebhookPayloadError) {
      answer(res, 400, { error: err.message });
      return;
    }
    const status = isBug(err) ? 500 : 503;
    logger?.error({ err, delivery: id, event: name }, "delivery failed");
    answer(res, status, { error: status === 503 ? "temporarily unavailable, redeliver later" : "internal error" });
  }
}

/** Counted when answered: 2xx accepted (handled, filtered or duplicate), 4xx rejected (e.g. bad signature), 5xx failed. */
function countDelivery(prometheus: Prometheus, req: IncomingMessage, res: ServerResponse): void {
  const header = req.headers["x-github-event"];
  const event = typeof header === "string" && EVENT_NAME.test(header) ? header : "unknown";
  const started = performance.now();
  res.once("finish", () => {
    const result = res.statusCode < 300 ? "accepted" : res.statusCode < 500 ? "rejected" : "failed";
    prometheus.deliveries.inc({ event, result });
    prometheus.deliveryDuration.observe({ result }, (performance.now() - started) / 1000);
  });
}
