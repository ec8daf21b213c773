/**
 * The cycles queue: its name, default job options, worker settings, and why those numbers. Everything that
 * creates a Queue or a Worker for cycles takes this object (tests pass a copy with their own name and prefix).
 */
import type { DefaultJobOptions } from "bullmq";

export interface QueueConfig {
  name: string;
  /** Redis key prefix: one per deployment (and per test file), so queues never share keys. */
  prefix: string;
  defaultJobOptions: DefaultJobOptions;
  worker: {
    /** How long a job's lock lasts without renewal. The worker renews it every lockDurationMs / 2. */
    lockDurationMs: number;
    /** How often a worker looks for jobs whose lock expired (their worker died) and puts them back. */
    stalledIntervalMs: number;
    /** A job whose worker died this many times fails instead of being put back again. */
    maxStalledCount: number;
    /** How long an idle worker blocks on Redis waiting for a job, in seconds. */
    drainDelaySeconds: number;
  };
  /** BullMQ priorities (lower runs first). */
  priorities: { apply: number; event: number; schedule: number };
}

export const CYCLES_QUEUE: QueueConfig = {
  name: "cycles",
  prefix: "odavl",
  defaultJobOptions: {
    // A cycle fails for reasons that pass (GitHub 5xx, a registry timeout during install, a worker restart):
    // four attempts over about 3.5 minutes (30 s, 60 s, 120 s) ride out most of them without retrying for hours.
    attempts: 4,
    backoff: { type: "exponential", delay: 30_000 },
    // Completed jobs are kept a day: their ids are deterministic, so an add with the same id in that time (a
    // duplicate webhook, a second process upserting the same schedule) collapses into the existing job.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs are kept a week for inspection.
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  },
  worker: {
    // The worker process only supervises: cycles run in child processes (see worker.ts), so its event loop is
    // never busy for long and renews locks on time. The lock therefore need not cover a cycle; it covers a
    // Redis hiccup or a long GC pause. It also bounds recovery: a killed worker's job goes back to the queue
    // about lockDuration + stalledInterval after the kill (about 1.5 minutes).
    lockDurationMs: 60_000,
    // Half the lock duration: a dead worker's job is found within one interval after its lock expires.
    stalledIntervalMs: 30_000,
    // A cycle that kills its worker twice (out of memory, say) is failed rather than crash-looping the fleet.
    maxStalledCount: 2,
    drainDelaySeconds: 5,
  },
  priorities: {
    // A maintainer pressed a button and is waiting for the pull request.
    apply: 1,
    // Pushes, pull requests and re-requests: someone is waiting for the check run.
    event: 5,
    // Nobody is waiting for a scheduled or shadow cycle.
    schedule: 20,
  },
};

/** Redis connection options. BullMQ's workers block on Redis and need `maxRetriesPerRequest: null`. */
export function redisConnection(url: string, role: "producer" | "worker") {
  return role === "worker"
    ? { url, maxRetriesPerRequest: null }
    : // A producer answers a webhook: with Redis down it must fail at once (GitHub shows the failed delivery),
      // not queue the command in memory until the webhook times out.
      { url, maxRetriesPerRequest: 1, enableOfflineQueue: false };
}
