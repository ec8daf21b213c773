/**
 * `odavl worker`: BullMQ workers of the cycles queue. Jobs run in child processes (see queue/worker.ts); this
 * process supervises them, keeps their locks, and on SIGTERM stops taking jobs and waits for the running ones
 * (a second SIGTERM abandons them: they are retried by another worker once their lock expires).
 */
import { pino } from "pino";
import { ConfigError, readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { createMetrics, createMetricsServer } from "../../observability/metrics.js";
import { CYCLES_QUEUE, redisConnection } from "../../queue/config.js";
import type { ChildOptions } from "../../queue/processor-child.js";
import { createCyclesQueue } from "../../queue/producer.js";
import { createSchedules, reconcileSchedules } from "../../queue/schedules.js";
import { SANDBOXED_PROCESSOR, startWorker } from "../../queue/worker.js";
import type { CommandContext } from "../main.js";
import { parseFlags, UsageError } from "../main.js";

const FLAGS = {
  concurrency: { type: "string" },
  "no-tests": { type: "boolean" },
  "no-install": { type: "boolean" },
  unsandboxed: { type: "boolean" },
} as const;

export async function workerCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, FLAGS);
  const env = readEnv(ctx.env);
  if (!env.DATABASE_URL || !env.REDIS_URL) {
    throw new ConfigError("odavl worker needs DATABASE_URL and REDIS_URL in the environment");
  }
  const concurrency = values.concurrency === undefined ? env.WORKER_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError(`--concurrency must be an integer in [1, 64], got "${values.concurrency}"`);
  }
  const logger = pino({ level: env.LOG_LEVEL, base: { role: "worker", pid: process.pid } });

  const config = { ...CYCLES_QUEUE, prefix: env.QUEUE_PREFIX };
  // Migrations and schedules once at start-up; any number of workers and web processes may do it at once.
  const db = await openDb({ databaseUrl: env.DATABASE_URL, migrate: true, poolSize: 2 });
  const queue = createCyclesQueue(config, redisConnection(env.REDIS_URL, "producer"));
  try {
    const reconciled = await reconcileSchedules(db.db, queue, createSchedules(queue, config));
    logger.info(reconciled, "schedules reconciled");
  } finally {
    await db.close();
  }

  const childOptions: ChildOptions = {
    queueName: CYCLES_QUEUE.name,
    queuePrefix: config.prefix,
    allowUnsandboxed: values.unsandboxed === true,
    runTests: values["no-tests"] !== true,
    install: values["no-install"] !== true,
  };
  const running = startWorker({
    config,
    connection: redisConnection(env.REDIS_URL, "worker"),
    concurrency,
    processor: SANDBOXED_PROCESSOR,
    childOptions,
    logger,
  });
  logger.info({ concurrency, queue: config.name, prefix: config.prefix }, "worker started");

  // Prometheus scrapes each worker machine on METRICS_PORT. Cycles run in child processes: what the worker sees is
  // each job's duration, from BullMQ's own timestamps.
  const metrics = createMetrics({ role: "worker", queue });
  const observeJob = (job: { processedOn?: number; finishedOn?: number } | undefined) => {
    if (job?.processedOn && job.finishedOn)
      metrics.phaseDuration.observe({ phase: "job" }, (job.finishedOn - job.processedOn) / 1000);
  };
  running.worker.on("completed", observeJob);
  running.worker.on("failed", observeJob);
  const metricsServer = createMetricsServer(metrics.registry);
  // Metrics are not worth a worker: with the port taken (two workers on one host), the worker runs unscraped.
  const serving = await new Promise<boolean>((resolve) => {
    metricsServer.once("error", (err) => {
      logger.error({ err, port: env.METRICS_PORT }, "metrics not served: set METRICS_PORT to a free port");
      resolve(false);
    });
    metricsServer.listen(env.METRICS_PORT, () => resolve(true));
  });
  if (serving) logger.info({ port: env.METRICS_PORT }, "serving metrics");

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: abandoning running jobs");
        void running.close(true);
        return;
      }
      stopping = true;
      logger.info({ signal }, "stopping: waiting for running jobs");
      running.close().then(resolve, (err: unknown) => {
        logger.error({ err }, "worker did not close cleanly");
        resolve();
      });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  if (serving) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
  await queue.close();
  logger.info("worker stopped");
  return 0;
}
