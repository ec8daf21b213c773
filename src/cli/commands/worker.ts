/**
 * `odavl worker`: BullMQ workers of the cycles queue. Jobs run in child processes (see queue/worker.ts); this
 * process supervises them, keeps their locks, and on SIGTERM stops taking jobs and waits for the running ones
 * (a second SIGTERM abandons them: they are retried by another worker once their lock expires).
 */
import { ConfigError, readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { createLogger } from "../../observability/logging.js";
import { createPrometheus, createPrometheusServer } from "../../observability/prometheus.js";
import { initErrorReporting } from "../../observability/sentry.js";
import { CYCLES_QUEUE, redisConnection } from "../../queue/config.js";
import type { ChildOptions } from "../../queue/processor-child.js";
import { createCyclesQueue } from "../../queue/producer.js";
import { createSchedules, reconcileSchedules } from "../../queue/schedules.js";
import { SANDBOXED_PROCESSOR, startWorker, stopOnSignals } from "../../queue/worker.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

const FLAGS = SPECS.worker.options;

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
  const logger = createLogger({ level: env.LOG_LEVEL, base: { role: "worker", pid: process.pid } });
  // Failed jobs and uncaught errors go to Sentry when SENTRY_DSN is set (nothing is loaded when it is not).
  const errors = await initErrorReporting(env, { role: "worker", logger });

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
  // Prometheus scrapes each worker machine on METRICS_PORT. Cycles run in child processes: what they observe
  // (phases, candidates, predictions, fallbacks, sandbox kills, GitHub requests) comes back with each job's result
  // and is recorded here (see observability/relay.ts); each job's duration comes from BullMQ's own timestamps.
  const prometheus = createPrometheus({ role: "worker", queue });
  const running = startWorker({
    config,
    connection: redisConnection(env.REDIS_URL, "worker"),
    concurrency,
    processor: SANDBOXED_PROCESSOR,
    childOptions,
    logger,
    prometheus,
    errors,
  });
  logger.info({ concurrency, queue: config.name, prefix: config.prefix }, "worker started");

  const observeJob = (job: { processedOn?: number; finishedOn?: number } | undefined) => {
    if (job?.processedOn && job.finishedOn)
      prometheus.phaseDuration.observe({ phase: "job" }, (job.finishedOn - job.processedOn) / 1000);
  };
  running.worker.on("completed", observeJob);
  running.worker.on("failed", observeJob);
  const prometheusServer = createPrometheusServer(prometheus.registry);
  // Metrics are not worth a worker: with the port taken (two workers on one host), the worker runs unscraped.
  const serving = await new Promise<boolean>((resolve) => {
    prometheusServer.once("error", (err) => {
      logger.error({ err, port: env.METRICS_PORT }, "metrics not served: set METRICS_PORT to a free port");
      resolve(false);
    });
    prometheusServer.listen(env.METRICS_PORT, () => resolve(true));
  });
  if (serving) logger.info({ port: env.METRICS_PORT }, "serving metrics");

  await stopOnSignals(running, logger);
  if (serving) await new Promise<void>((resolve) => prometheusServer.close(() => resolve()));
  await queue.close();
  await errors?.close();
  logger.info("worker stopped");
  return 0;
}
