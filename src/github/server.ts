/**
 * The web process's HTTP server: the webhook endpoint (Probot verifies the signature before any handler runs: a
 * missing or wrong signature is answered 400 and reaches no handler), health and readiness checks, metrics, and
 * the operator dashboard.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type ApplicationFunction, createNodeMiddleware, type Probot } from "probot";
import { type ReadinessChecks, serveReadiness } from "../observability/health.js";
import { type Metrics, serveMetrics } from "../observability/metrics.js";

export const WEBHOOK_PATH = "/api/github/webhooks";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function createWebServer(o: {
  probot: Probot;
  app: ApplicationFunction;
  webhookPath?: string;
  readiness?: ReadinessChecks;
  metrics?: Metrics;
  dashboard?: Handler;
}): Promise<Server> {
  const webhookPath = o.webhookPath ?? WEBHOOK_PATH;
  const middleware = await createNodeMiddleware(o.app, { probot: o.probot, webhooksPath: webhookPath });
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (req.method === "GET" && path === "/readyz" && o.readiness) return serveReadiness(o.readiness, res);
    if (req.method === "GET" && path === "/metrics" && o.metrics) return serveMetrics(o.metrics.registry, res);
    if (o.dashboard && (path === "/dashboard" || path?.startsWith("/dashboard/"))) return o.dashboard(req, res);
    if (o.metrics && req.method === "POST" && path === webhookPath) countDelivery(o.metrics, req, res);
    void middleware(req, res, () => {
      if (!res.headersSent) res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
  });
}

/** Counted when answered: 2xx accepted (handled, filtered or duplicate), 4xx rejected (e.g. bad signature), 5xx failed. */
function countDelivery(metrics: Metrics, req: IncomingMessage, res: ServerResponse): void {
  const header = req.headers["x-github-event"];
  const event = typeof header === "string" && /^[a-z_]{1,64}$/.test(header) ? header : "unknown";
  res.once("finish", () => {
    const result = res.statusCode < 300 ? "accepted" : res.statusCode < 500 ? "rejected" : "failed";
    metrics.deliveries.inc({ event, result });
  });
}
