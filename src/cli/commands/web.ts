/**
 * `odavl web` (and `npm start`): the GitHub App's web process. Reads the environment once, builds the database
 * and the queue, and serves webhooks (a plain node:http server that verifies signatures itself; no Probot, no
 * GitHub call), health, metrics and the dashboard until SIGTERM.
 */
import type { Server } from "node:http";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { createDashboardHandler } from "../../analytics/dashboard.js";
import { ConfigError, readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { createWebhookHandler } from "../../github/app.js";
import { createWebServer } from "../../github/server.js";
import { createPredictor } from "../../model/predictor.js";
import { createPrometheus } from "../../observability/prometheus.js";
import { initErrorReporting } from "../../observability/sentry.js";
import { CYCLES_QUEUE, redisConnection } from "../../queue/config.js";
import { createCyclesQueue, createProducer } from "../../queue/producer.js";
import { createSchedules, reconcileSchedules } from "../../queue/schedules.js";
import { DEFAULT_MODEL_PATH } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";

export async function webCommand(ctx: CommandContext): Promise<number> {
  parseFlags(ctx.argv, {});
  const env = readEnv(ctx.env);
  // The web process makes no GitHub call (the worker does, with APP_ID and PRIVATE_KEY): it needs the webhook
  // secret, the database and the queue only.
  const missing = (["WEBHOOK_SECRET", "DATABASE_URL", "REDIS_URL"] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new ConfigError(`odavl web needs ${missing.join(", ")} in the environment`);
  const logger = pino({ level: env.LOG_LEVEL, base: { role: "web" } });
  // Sentry when SENTRY_DSN is set (uncaught errors of the web process); nothing is loaded otherwise.
  const errors = await initErrorReporting(env, { role: "web", logger });

  const config = { ...CYCLES_QUEUE, prefix: env.QUEUE_PREFIX };
  const db = await openDb({
    databaseUrl: env.DATABASE_URL,
    migrate: true,
    poolSize: WEB_MAIN_POOL_SIZE,
    applicationName: "odavl-web",
  });
  // The delivery log (every delivery's receipt and result: two statements per delivery) commits without waiting
  // for the WAL flush: on a disk whose flushes stall now and then, waiting made every delivery of that moment
  // wait (bench:ingest p99 107-683 ms against 32-40 ms without). A row lost to a crash of Postgres only means that
  // a redelivery is handled again, which every handler allows (job ids are deterministic). Registrations,
  // configuration and consent are written through `db`, which waits as usual.
  const deliveryLog = await openDb({
    databaseUrl: env.DATABASE_URL,
    migrate: false,
    poolSize: WEB_POOL_SIZE,
    asyncCommit: true,
    applicationName: "odavl-web-deliveries",
  });
  // Open the pools' connections before serving: the first burst of deliveries after a deploy must not wait for them.
  await warmPool(deliveryLog.pool, WEB_POOL_SIZE, logger);
  await warmPool(db.pool, WEB_MAIN_POOL_SIZE, logger);
  const queue = createCyclesQueue(config, redisConnection(env.REDIS_URL as string, "producer"));
  // Without a listener, an "error" event (Redis unreachable) would end the process; deliveries answer 503 instead
  // while it is down, and the connection comes back by itself.
  queue.on("error", (err) => logger.warn({ err: err.message }, "queue connection error"));
  const schedules = createSchedules(queue, config);
  const prometheus = createPrometheus({ role: "web", queue });
  // Loaded here only to report in /readyz which model the workers of this release score with; nothing is scored
  // on the web process.
  const predictor = await createPredictor({
    enabled: env.ML_ENABLE,
    modelPath: env.ML_MODEL_PATH ?? DEFAULT_MODEL_PATH,
    timeBudgetMs: env.ML_TIME_BUDGET_MS,
    logger,
  });
  // The web process makes no GitHub call: it verifies signatures itself and needs neither Probot nor Octokit.
  const server = await createWebServer({
    webhooks: {
      secret: env.WEBHOOK_SECRET as string,
      handle: createWebhookHandler({
        db: db.db,
        deliveryLog: deliveryLog.db,
        jobs: createProducer(queue, config),
        schedules,
        logger,
      }),
    },
    logger,
    prometheus,
    readiness: {
      postgres: () => db.db.execute(sql`select 1`),
      redis: async () => (await queue.getBackend().client).runCommand("ping", []),
      model: () => {
        const s = predictor.status;
        return { loaded: s.loaded, modelVersion: s.modelVersion, fallback: s.loadFailure?.cause ?? null };
      },
    },
    dashboard: createDashboardHandler({
      db: db.db,
      operatorToken: env.OPERATOR_TOKEN,
      target: env.COLLECT_TARGET,
      thresholds: { review: env.ML_CONFIDENCE_THRESHOLD, autoApply: env.ML_AUTO_APPLY_THRESHOLD },
      onError: (err) => logger.error({ err }, "dashboard figures failed"),
    }),
  });
  // Listening comes first: /healthz answers while Redis is still unreachable (and /readyz says so); the schedules
  // are reconciled as soon as Redis answers.
  await listen(server, env.PORT);
  logger.info({ port: env.PORT }, "serving webhooks");
  const reconciling = reconcileWhenReachable(() => reconcileSchedules(db.db, queue, schedules), logger);

  const signal = await nextSignal();
  logger.info({ signal }, "shutting down");
  reconciling.stop();
  // Every step is bounded: with Redis or Postgres unreachable, a graceful close would wait for them for ever.
  server.closeIdleConnections();
  const closed = await settleWithin(new Promise<void>((resolve) => server.close(() => resolve())), SHUTDOWN_STEP_MS);
  if (!closed) server.closeAllConnections();
  if (!(await settleWithin(queue.close(), SHUTDOWN_STEP_MS))) {
    logger.warn("the queue's Redis connection did not close in time; disconnecting");
    await settleWithin(queue.disconnect(), SHUTDOWN_STEP_MS);
  }
  if (!(await settleWithin(Promise.all([db.close(), deliveryLog.close()]), SHUTDOWN_STEP_MS))) {
    logger.warn("the database pools did not close in time");
  }
  await settleWithin(errors?.close() ?? Promise.resolve(), SHUTDOWN_STEP_MS);
  logger.info("stopped");
  // A client that could not close (Redis still unreachable) keeps reconnecting and would keep the process alive.
  setTimeout(() => {
    logger.warn("connections still open after shutdown; exiting");
    process.exit(0);
  }, SHUTDOWN_STEP_MS).unref();
  return 0;
}

/** Deliveries are handled concurrently, each holding a delivery-log connection for two short statements. */
const WEB_POOL_SIZE = 20;
/** Registrations, configuration, readiness and the dashboard: rarer, and a delivery waits for them only once. */
const WEB_MAIN_POOL_SIZE = 10;

/** The longest each shutdown step (in-flight requests, the queue's connection, the pool) is waited for. */
const SHUTDOWN_STEP_MS = 3_000;

/** Reconciles the schedules, retrying every few seconds while Redis (or Postgres) does not answer. */
function reconcileWhenReachable(
  reconcile: () => Promise<object>,
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void },
): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () => {
    reconcile().then(
      (reconciled) => logger.info(reconciled, "schedules reconciled"),
      (err: unknown) => {
        if (stopped) return;
        logger.warn({ err: String(err) }, "schedules not reconciled yet; retrying");
        timer = setTimeout(attempt, RECONCILE_RETRY_MS);
      },
    );
  };
  attempt();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

const RECONCILE_RETRY_MS = 5_000;

/** True when `p` settled (resolved or rejected) within `ms`. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = p.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

/** Opens up to `n` pooled connections at once (each runs `select 1`); a failure only costs the warm start. */
async function warmPool(pool: import("pg").Pool | undefined, n: number, logger: { warn(o: object, m: string): void }) {
  if (!pool) return;
  const clients = await Promise.allSettled(Array.from({ length: n }, () => pool.connect()));
  await Promise.allSettled(
    clients.map(async (c) => {
      if (c.status !== "fulfilled") return;
      try {
        await c.value.query("select 1");
      } finally {
        c.value.release();
      }
    }),
  );
  const failed = clients.find((c) => c.status === "rejected");
  if (failed)
    logger.warn({ err: String((failed as PromiseRejectedResult).reason) }, "could not open every pooled connection");
}
