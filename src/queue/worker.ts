/**
 * The BullMQ worker of the cycles queue.
 *
 * Cycles run in child processes (BullMQ's sandboxed processors, `processor-child.ts`), not in the worker's own
 * event loop. A cycle does long synchronous work in-process (the TypeScript language service planning code fixes,
 * ESLint and Biome passes over every file); in the worker's loop that would delay lock renewal past the lock's
 * expiry on a large repository, the job would be declared stalled and a second worker would run it while the
 * first still did. A lock long enough to cover any cycle would instead delay the recovery of a killed worker's
 * jobs by as long. With the child, the lock stays short (see config.ts) and a crash or out-of-memory in a cycle
 * fails the job, not the worker. The child exits when its worker dies (it watches the IPC channel), so a killed
 * worker never leaves a cycle running next to its retry. Only BullMQ's public API is used: the processor file and
 * fork options, the job's progress (which carries what the child observed), and job cancellation.
 */
import { hostname } from "node:os";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Job, Worker } from "bullmq";
import type { Logger } from "pino";
import type { Prometheus } from "../observability/prometheus.js";
import { relayedObservations, replayObservations } from "../observability/relay.js";
import { type ErrorReporter, jobTags } from "../observability/sentry.js";
import type { QueueConfig } from "./config.js";

export type InlineProcessor = (job: Job) => Promise<unknown>;

export interface StartWorkerOptions {
  config: QueueConfig;
  connection: object;
  concurrency: number;
  /** A function (in-process, for tests and one-off tools) or a sandboxed processor file (production). */
  processor: InlineProcessor | URL;
  /** Options for the child processes of a sandboxed processor, passed in their environment. */
  childOptions?: Record<string, unknown>;
  logger: Logger;
  /** Recorded on each job it processes (`processedBy`). Default: host and process id. */
  name?: string;
  /** The process's registry: what the child processes observed during each job is recorded here. */
  prometheus?: Prometheus;
  /** Where failed jobs are reported (Sentry), when error reporting is on. */
  errors?: ErrorReporter | null;
}

/** The sandboxed processor file, beside this one (`.ts` when run from the sources, `.js` from the build). */
export const SANDBOXED_PROCESSOR = new URL(
  `./processor-child${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/** Environment variable carrying the child options (JSON) to sandboxed processors. */
export const CHILD_OPTIONS_ENV = "ODAVL_WORKER_CHILD_OPTIONS";

export interface RunningWorker {
  worker: Worker;
  /**
   * Waits for running jobs to finish. `force` abandons them: their child processes are killed at once, and the jobs
   * are retried (here or by another worker) as failed attempts, or after their lock expires.
   */
  close(force?: boolean): Promise<void>;
}

export function startWorker(o: StartWorkerOptions): RunningWorker {
  const sandboxed = o.processor instanceof URL;
  const worker = new Worker(o.config.name, o.processor, {
    name: o.name ?? `${hostname()}:${process.pid}`,
    connection: o.connection,
    prefix: o.config.prefix,
    concurrency: o.concurrency,
    lockDuration: o.config.worker.lockDurationMs,
    stalledInterval: o.config.worker.stalledIntervalMs,
    maxStalledCount: o.config.worker.maxStalledCount,
    drainDelay: o.config.worker.drainDelaySeconds,
    ...(sandboxed
      ? {
          useWorkerThreads: false,
          workerForkOptions: {
            execArgv: childExecArgv(o.processor as URL),
            env: { ...process.env, [CHILD_OPTIONS_ENV]: JSON.stringify(o.childOptions ?? {}) },
          },
        }
      : {}),
  });
  // What a job's child process observed comes back as the job's last progress report (see processor-child.ts) and
  // is recorded in this process's registry, which /metrics serves; the job's stored result is the processor's own.
  worker.on("progress", (job, progress) => {
    const observations = relayedObservations(progress);
    if (!o.prometheus || observations.length === 0) return;
    const { skipped } = replayObservations(o.prometheus, observations);
    if (skipped > 0) o.logger.warn({ jobId: job.id, skipped }, "observations of a job not recorded");
  });
  // Without a listener an "error" event (Redis connection lost) would crash the process; BullMQ reconnects.
  worker.on("error", (err) => o.logger.error({ err }, "worker error"));
  worker.on("failed", (job, err) => {
    // BullMQ sets finishedOn only when the job failed for good (no retry left, or it can never succeed).
    const final = typeof job?.finishedOn === "number";
    o.logger.warn(
      { ...jobTags(job), name: job?.name, attemptsStarted: job?.attemptsStarted, final, err: err.message },
      "job failed",
    );
    o.errors?.captureJobFailure(err, {
      ...jobTags(job),
      jobName: job?.name ?? "unknown",
      attempt: job?.attemptsStarted ?? 0,
      final,
    });
  });
  worker.on("completed", (job, result) => o.logger.info({ ...jobTags(job), name: job.name, result }, "job completed"));
  worker.on("stalled", (jobId) => {
    // The event carries only the id; the job's own data names its delivery, repository and commit.
    void Job.fromId(worker, jobId)
      .catch(() => undefined)
      .then((job) =>
        o.logger.warn(
          { ...jobTags(job ?? { id: jobId }), name: job?.name },
          "job stalled (its worker died); it goes back to the queue",
        ),
      );
  });
  return {
    worker,
    close: (force = false) => {
      // Abandoning: each running job is cancelled (BullMQ aborts its signal, in the child process too), and a cycle's
      // child process ends itself at once on it (processor-child.ts) instead of finishing its job first, as BullMQ's
      // own close lets it (up to 30 s): an abandoned cycle would go on writing next to its retry.
      if (force) worker.cancelAllJobs("the worker abandons its jobs");
      return worker.close(force);
    },
  };
}

/**
 * Node options of the child process: from the TypeScript sources (no build), the child loads tsx; from the build,
 * nothing. The parent's own options are not passed on (debugger ports would collide).
 */
function childExecArgv(file: URL): string[] {
  if (!fileURLToPath(file).endsWith(".ts")) return [];
  return ["--import", import.meta.resolve("tsx")];
}

/**
 * Resolves once the worker stopped after SIGTERM or SIGINT: the first signal stops taking jobs and waits for the
 * running ones; a second abandons them (their cycle processes are killed at once, and the jobs are retried by this
 * queue's workers). Stopping this way loses nothing: a job either finishes here or is handed back.
 */
export function stopOnSignals(running: RunningWorker, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: abandoning running jobs");
        running.close(true).then(resolve, (err: unknown) => {
          logger.error({ err }, "worker did not close cleanly");
          resolve();
        });
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
}
