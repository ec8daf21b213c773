/**
 * `odavl web` (and `npm start`): the GitHub App's web process. Reads the environment once, builds the database,
 * the queue and Probot, and serves webhooks until SIGTERM.
 */
import type { Server } from "node:http";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { Probot } from "probot";
import { createDashboardHandler } from "../../analytics/dashboard.js";
import { ConfigError, readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { createApp } from "../../github/app.js";
import { createOctokitClass, privateKeyFrom } from "../../github/octokit.js";
import { createWebServer } from "../../github/server.js";
import { createPredictor } from "../../model/predictor.js";
import { createMetrics } from "../../observability/metrics.js";
import { CYCLES_QUEUE, redisConnection } from "../../queue/config.js";
import { createCyclesQueue, createProducer } from "../../queue/producer.js";
import { createSchedules, reconcileSchedules } from "../../queue/schedules.js";
import { DEFAULT_MODEL_PATH } from "../../runtime/context.js";
import type { CommandContext } from "../main.js";
import { parseFlags } from "../main.js";

export async function webCommand(ctx: CommandContext): Promise<number> {
  parseFlags(ctx.argv, {});
  const env = readEnv(ctx.env);
  const missing = (["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "DATABASE_URL", "REDIS_URL"] as const).filter(
    (k) => !env[k],
  );
  if (missing.length > 0) throw new ConfigError(`odavl web needs ${missing.join(", ")} in the environment`);
  const logger = pino({ level: env.LOG_LEVEL, base: { role: "web" } });

  const config = { ...CYCLES_QUEUE, prefix: env.QUEUE_PREFIX };
  const db = await openDb({ databaseUrl: env.DATABASE_URL, migrate: true });
  const queue = createCyclesQueue(config, redisConnection(env.REDIS_URL as string, "producer"));
  const schedules = createSchedules(queue, config);
  const metrics = createMetrics({ role: "web", queue });
  // Loaded here only to report in /readyz which model the workers of this release score with; nothing is scored
  // on the web process.
  const predictor = await createPredictor({
    enabled: env.ML_ENABLE,
    modelPath: env.ML_MODEL_PATH ?? DEFAULT_MODEL_PATH,
    timeBudgetMs: env.ML_TIME_BUDGET_MS,
    logger,
  });
  const probot = new Probot({
    appId: env.APP_ID,
    privateKey: privateKeyFrom(env.PRIVATE_KEY as string),
    secret: env.WEBHOOK_SECRET,
    Octokit: createOctokitClass(undefined, metrics),
    log: logger,
  });
  const server = await createWebServer({
    probot,
    app: createApp({ db: db.db, jobs: createProducer(queue, config), schedules }),
    metrics,
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
  const reconciled = await reconcileSchedules(db.db, queue, schedules);
  logger.info(reconciled, "schedules reconciled");
  await listen(server, env.PORT);
  logger.info({ port: env.PORT }, "serving webhooks");

  const signal = await nextSignal();
  logger.info({ signal }, "shutting down");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await queue.close();
  await db.close();
  return 0;
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
