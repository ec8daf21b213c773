/**
 * The Prometheus metrics of the web and worker processes: one registry per process, built once by the entry point
 * and passed to the places that observe each event. Nothing here is created at import time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What the queue gauges read at scrape time (BullMQ's `Queue` fits). */
export interface QueueCounts {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

export interface Prometheus {
  registry: Registry;
  /** Webhook deliveries answered by the web process, by event and result (`accepted`, `rejected`, `failed`). */
  deliveries: Counter<"event" | "result">;
  /** Time from a delivery's request to its answer, seconds, by result (as `deliveries`). */
  deliveryDuration: Histogram<"result">;
  /** Jobs of the cycles queue by state, read from BullMQ when scraped. */
  queueJobs: Gauge<"state">;
  /** Autopilot cycles and their phases (`cycle` for the whole), seconds. */
  phaseDuration: Histogram<"phase">;
  /** Candidates decided, by tier. */
  candidates: Counter<"tier">;
  /** Time to score one batch of candidates, seconds. */
  predictionLatency: Histogram;
  /** Batches the heuristic decided instead of the model, by cause. */
  modelFallbacks: Counter<"cause">;
  /** Sandboxed runs stopped by a limit, by cause (timeout, memory, output, ...). */
  sandboxKills: Counter<"cause">;
  /** GitHub API requests, by method and status class. */
  githubCalls: Counter<"method" | "status">;
  /** Waits on GitHub rate limits, by kind (`primary`, `secondary`, `retry-after`). */
  rateLimitWaits: Counter<"kind">;
}

export interface PrometheusOptions {
  /** Label on every series: `web` or `worker`. */
  role: string;
  /** The cycles queue, for the queue gauges. */
  queue?: QueueCounts;
  /** Process metrics (CPU, memory, event loop lag). Off in tests that build many registries. */
  defaults?: boolean;
}

const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed", "prioritized"] as const;

export function createPrometheus(o: PrometheusOptions): Prometheus {
  const registry = new Registry();
  registry.setDefaultLabels({ role: o.role });
  if (o.defaults !== false) collectDefaultMetrics({ register: registry, prefix: "odavl_" });
  const queue = o.queue;
  return {
    registry,
    deliveries: new Counter({
      name: "odavl_webhook_deliveries_total",
      help: "Webhook deliveries answered, by event and result",
      labelNames: ["event", "result"],
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: "odavl_webhook_duration_seconds",
      help: "Time from a webhook delivery's request to its answer, by result",
      labelNames: ["result"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: "odavl_queue_jobs",
      help: "Jobs of the cycles queue by state, read when scraped",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        if (!queue) return;
        // A scrape must not fail because Redis is down: the gauges keep their last values and readyz says why.
        const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => null);
        if (!counts) return;
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    }),
    phaseDuration: new Histogram({
      name: "odavl_cycle_phase_duration_seconds",
      help: "Duration of autopilot cycles (phase=cycle) and of each phase",
      labelNames: ["phase"],
      // A phase takes from milliseconds (decide) to many minutes (install, tests).
      buckets: [0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1200],
      registers: [registry],
    }),
    candidates: new Counter({
      name: "odavl_candidates_total",
      help: "Candidates decided, by tier",
      labelNames: ["tier"],
      registers: [registry],
    }),
    predictionLatency: new Histogram({
      name: "odavl_prediction_latency_seconds",
      help: "Time to score one batch of candidates",
      // ML_TIME_BUDGET_MS defaults to 250 ms: the buckets resolve around it.
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    modelFallbacks: new Counter({
      name: "odavl_model_fallbacks_total",
      help: "Batches decided by the heuristic instead of the model, by cause",
      labelNames: ["cause"],
      registers: [registry],
    }),
    sandboxKills: new Counter({
      name: "odavl_sandbox_kills_total",
      help: "Sandboxed runs stopped by a limit, by cause",
      labelNames: ["cause"],
      registers: [registry],
    }),
    githubCalls: new Counter({
      name: "odavl_github_requests_total",
      help: "GitHub API requests, by method and status class",
      labelNames: ["method", "status"],
      registers: [registry],
    }),
    rateLimitWaits: new Counter({
      name: "odavl_github_rate_limit_waits_total",
      help: "Waits on GitHub rate limits, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
  };
}

/** Answers a scrape with the registry's text format. */
export function servePrometheus(registry: Registry, res: ServerResponse): void {
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": registry.contentType }).end(text);
    },
    (err: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(err)}\n`);
    },
  );
}

/** The worker's metrics endpoint: GET /metrics on its own port, nothing else. */
export function createPrometheusServer(registry: Registry): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET" && (req.url === "/metrics" || req.url?.startsWith("/metrics?"))) {
      servePrometheus(registry, res);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
}
