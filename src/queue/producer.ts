/**
 * Adding jobs to the cycles queue, and taking back the jobs of repositories that are gone. One Queue per
 * process, created by the entry point and passed in.
 */
import { type JobType, Queue } from "bullmq";
import type { QueueConfig } from "./config.js";
import {
  type ApplyJobData,
  applyJobId,
  applyJobSchema,
  type CycleJobData,
  type CycleRequestKey,
  cycleJobId,
  cycleJobSchema,
  type JobName,
} from "./jobs.js";

export interface JobProducer {
  /** Adds a cycle job; returns its id. An add whose id exists changes nothing. */
  enqueueCycle(data: CycleJobData, key: CycleRequestKey): Promise<string>;
  enqueueApply(data: ApplyJobData): Promise<string>;
  /**
   * A redelivered webhook whose job failed for good: the failed job (kept under its deterministic id, where it
   * would make BullMQ ignore the new add) goes back to the queue with its attempts reset, and true is returned.
   * Only a failed job moves, atomically: of concurrent redeliveries one re-runs it, the others find it waiting.
   * False for a job that is missing, queued, running or completed.
   */
  rerunFailed(jobId: string): Promise<boolean>;
  /** Removes the repositories' jobs that have not started. Returns how many were removed. */
  removeRepositoryJobs(repositoryIds: readonly number[]): Promise<number>;
}

export function createCyclesQueue(config: QueueConfig, connection: object): Queue {
  return new Queue(config.name, { connection, prefix: config.prefix, defaultJobOptions: config.defaultJobOptions });
}

/** States of jobs that have not started (active jobs are locked by their worker and find their repository gone). */
const NOT_STARTED: JobType[] = ["waiting", "prioritized", "delayed"];

export function createProducer(queue: Queue, config: QueueConfig): JobProducer {
  return {
    async enqueueCycle(data, key) {
      // Validated here too: a payload that cannot run must fail the webhook, not sit in the queue.
      const job = cycleJobSchema.parse(data);
      if (job.sha === null) throw new Error("enqueueCycle: a cycle added by an event needs its sha");
      const jobId = cycleJobId(job.repositoryId, job.sha, key);
      const priority = job.trigger === "shadow" ? config.priorities.schedule : config.priorities.event;
      await queue.add("cycle" satisfies JobName, job, { jobId, priority });
      return jobId;
    },

    async enqueueApply(data) {
      const job = applyJobSchema.parse(data);
      const jobId = applyJobId(job.repositoryId, job.deliveryId);
      await queue.add("apply" satisfies JobName, job, { jobId, priority: config.priorities.apply });
      return jobId;
    },

    async rerunFailed(jobId) {
      const job = await queue.getJob(jobId);
      if (!job || typeof job.finishedOn !== "number" || job.failedReason === undefined) return false;
      try {
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      } catch {
        // Not failed (any more): another redelivery moved it first, or it completed.
        return false;
      }
    },

    async removeRepositoryJobs(repositoryIds) {
      if (repositoryIds.length === 0) return 0;
      const ids = new Set(repositoryIds);
      const matching = [];
      // Pages over the jobs that have not started, one state at a time (ranges apply per state).
      const page = 500;
      for (const state of NOT_STARTED) {
        for (let start = 0; ; start += page) {
          const jobs = await queue.getJobs([state], start, start + page - 1, true);
          for (const job of jobs) {
            const repositoryId = (job?.data as { repositoryId?: unknown } | undefined)?.repositoryId;
            if (job && typeof repositoryId === "number" && ids.has(repositoryId)) matching.push(job);
          }
          if (jobs.length < page) break;
        }
      }
      let removed = 0;
      for (const job of matching) {
        try {
          await job.remove();
          removed++;
        } catch {
          // It started meanwhile: its worker finds the repository gone and stops.
        }
      }
      return removed;
    },
  };
}
