/**
 * The jobs of the cycles queue: their names, their payloads (validated with zod when a job starts: a payload that
 * does not parse can never succeed) and their ids, derived from what the job is about so that duplicates collapse.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

const JOB_NAMES = ["cycle", "apply"] as const;
export type JobName = (typeof JOB_NAMES)[number];

const sha40 = z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit sha");

const repositoryRef = {
  /** Our repositories.id: the job is about this row; a job whose row is gone has nothing left to do. */
  repositoryId: z.number().int().positive(),
  /** For logs and the Redis UI; the row is the source of truth (repositories get renamed). */
  repository: z.string().min(1),
  /** The repository's `clone_url` in the event that queued the job (GitHub Enterprise Server: its own host). */
  cloneUrl: z.string().url().nullable().default(null),
};

const cycleTriggerSchema = z.enum(["push", "pull_request", "schedule", "manual", "shadow"]);

/** What `odavl collect` decides per repository, carried to the worker that runs its shadow cycle. */
const collectionOptionsSchema = z.object({
  /** Recipes to run (the ones not yet recorded for this repository and sha); all the configured ones when absent. */
  recipeIds: z.array(z.string().min(1)).min(1).optional(),
  /** A shell command that runs the tests, instead of package.json's `test` script. */
  testCommand: z.string().min(1).nullable().default(null),
  /** Scopes whose candidates run the tests. */
  testScopes: z.array(z.enum(["all", "file"])).optional(),
  /** File-scope candidates per recipe. */
  maxFileCandidatesPerRecipe: z.number().int().positive().optional(),
});
export type CollectionOptions = z.output<typeof collectionOptionsSchema>;

export const cycleJobSchema = z.object({
  ...repositoryRef,
  /** null: the head of the default branch when the job runs (schedules). */
  sha: sha40.nullable(),
  trigger: cycleTriggerSchema,
  /** Pull-request cycles: the pull request whose head this was, to notice a head that moved on. */
  pullRequest: z.number().int().positive().nullable().default(null),
  /** The branch the sha was pushed to, when known (auto-apply only acts on the default branch). */
  branch: z.string().nullable().default(null),
  deliveryId: z.string().nullable().default(null),
  /** Shadow cycles queued by `odavl collect`: the options of the collection run (null: the repository's own). */
  collection: collectionOptionsSchema.nullable().default(null),
});
export type CycleJobData = z.input<typeof cycleJobSchema>;
export type CycleJob = z.output<typeof cycleJobSchema>;

export const applyJobSchema = z.object({
  ...repositoryRef,
  /** The check run whose "Apply" button was pressed, and the commit it was on. */
  checkRunId: z.number().int().positive(),
  headSha: sha40,
  /** The branch the check run's commit was on; the fix is re-verified on its current head. */
  headBranch: z.string().min(1).nullable(),
  /**
   * The check run's pull requests (GitHub lists those of the repository itself; a fork's pull request is not
   * listed): the fix goes into that pull request's branch.
   */
  pullRequests: z.array(z.number().int().positive()).max(1000).default([]),
  action: z.string().min(1).max(20),
  requestedBy: z.string().min(1),
  deliveryId: z.string().min(1),
});
export type ApplyJobData = z.input<typeof applyJobSchema>;
export type ApplyJob = z.output<typeof applyJobSchema>;

/**
 * What distinguishes two cycles of one repository at one sha. Pushes and pull requests are one event per sha;
 * a re-request is a person asking again, so each delivery is its own request (a duplicate of the same delivery
 * still collapses).
 */
export type CycleRequestKey =
  | { trigger: "push" | "pull_request" | "shadow" }
  /** A collection run's shadow cycle: `collection` names what it runs (its recipes and options). */
  | { trigger: "shadow"; collection: string }
  | { trigger: "manual"; deliveryId: string };

/** `cycle-r<repository>-<sha>-<trigger>`: BullMQ ignores an add whose id exists, so duplicates collapse. */
export function cycleJobId(repositoryId: number, sha: string, key: CycleRequestKey): string {
  const trigger =
    key.trigger === "manual"
      ? `manual-${safe(key.deliveryId)}`
      : "collection" in key
        ? `shadow-collect-${safe(key.collection)}`
        : key.trigger;
  return `cycle-r${repositoryId}-${sha}-${trigger}`;
}

/** Each press of a button is a delivery of its own; the same delivery twice is one job. */
export function applyJobId(repositoryId: number, deliveryId: string): string {
  return `apply-r${repositoryId}-${safe(deliveryId)}`;
}

/** Keeps ids to characters that need no escaping anywhere (no ":" which BullMQ uses in keys). */
function safe(s: string): string {
  return /^[A-Za-z0-9-]{1,64}$/.test(s) ? s : createHash("sha256").update(s).digest("hex").slice(0, 32);
}
