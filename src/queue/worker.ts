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
 * worker never leaves a cycle running next to its retry.
 */
import { hostname } from "node:os";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { type Job, Worker } from "bullmq";
import type { Logger } from "pino";
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
  /** Waits for running jobs to finish (`force`: abandons them; they are retried elsewhere after their lock expires). */
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
  // Without a listener an "error" event (Redis connection lost) would crash the process; BullMQ reconnects.
  worker.on("error", (err) => o.logger.error({ err }, "worker error"));
  worker.on("failed", (job, err) =>
    o.logger.warn(
      { jobId: job?.id, name: job?.name, attemptsStarted: job?.attemptsStarted, err: err.message },
      "job failed",
    ),
  );
  worker.on("completed", (job, result) => o.logger.info({ jobId: job.id, name: job.name, result }, "job completed"));
  worker.on("stalled", (jobId) => o.logger.warn({ jobId }, "job stalled (its worker died); it goes back to the queue"));
  return {
    worker,
    close: (force = false) => worker.close(force),
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
