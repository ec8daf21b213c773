/**
 * What src/github needs from the queue, declared here so that src/github imports nothing of src/queue: the
 * entry points (and tests) pass the queue's job producer and job schedulers, which fit these shapes.
 */
import type { RepositoryRow } from "../db/queries/repositories.js";

/** A repository's scheduled cycles. */
export interface RepositorySchedules {
  /** Creates or updates the repository's schedule ("daily", "weekly", "off" or a cron expression). */
  upsert(repo: RepositoryRow, schedule: string): Promise<void>;
  remove(repositoryIds: readonly number[]): Promise<void>;
}

/** Why a schedule from `.github/odavl.yml` cannot run for a repository (a cron that never fires), or null. */
export type ScheduleProblem = (repositoryId: number, schedule: string) => string | null;

/** A cycle an event asks for. */
export interface EventCycleJob {
  repositoryId: number;
  /** owner/name, for logs. */
  repository: string;
  cloneUrl: string | null;
  sha: string;
  trigger: "push" | "pull_request" | "manual";
  pullRequest?: number | null;
  branch?: string | null;
  deliveryId: string;
}

/** What distinguishes two cycles an event asks for at one sha: a re-request is its own, by its delivery. */
export type EventCycleKey = { trigger: "push" | "pull_request" } | { trigger: "manual"; deliveryId: string };

/** An "Apply" press on a check run. */
export interface ApplyPressJob {
  repositoryId: number;
  repository: string;
  cloneUrl: string | null;
  checkRunId: number;
  headSha: string;
  headBranch: string | null;
  pullRequests: number[];
  action: string;
  requestedBy: string;
  deliveryId: string;
}

/** The jobs the webhook handlers add and take back. */
export interface WebhookJobs {
  /** Adds a cycle job; returns its id. An add whose id exists changes nothing. */
  enqueueCycle(data: EventCycleJob, key: EventCycleKey): Promise<string>;
  enqueueApply(data: ApplyPressJob): Promise<string>;
  /** A failed job goes back to the queue with its attempts reset: true when it did. */
  rerunFailed(jobId: string): Promise<boolean>;
  /** Removes the repositories' jobs that have not started; returns how many. */
  removeRepositoryJobs(repositoryIds: readonly number[]): Promise<number>;
}
