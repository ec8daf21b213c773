/**
 * Shadow collection through the cycles queue: each listed repository is registered as a shadow repository and
 * gets one shadow cycle job (the recipes not yet recorded for its sha, and the run's options); the workers run
 * them, and this waits for them. The job id names the repository, the sha and what the job runs, so running
 * collect again adds nothing that is already queued or done. A job that fails for good has its error recorded;
 * the others go on.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Job, Queue } from "bullmq";
import type { Db } from "../db/client.js";
import { recordCollectionError, recordedRecipes } from "../db/queries/collection.js";
import { setConsent } from "../db/queries/repositories.js";
import { registerShadowRepository } from "../db/queries/shadow-repositories.js";
import type { CandidateScope } from "../engine/types.js";
import type { QueueConfig } from "../queue/config.js";
import { type CollectionOptions, type CycleJobData, cycleJobId } from "../queue/jobs.js";
import type { CycleJobResult } from "../queue/processors/cycle.js";
import { createProducer } from "../queue/producer.js";
import type { Recipe } from "../recipes/types.js";
import { gitOk } from "../workspace/git.js";
import type { CollectResult } from "./collect.js";
import type { ListEntry } from "./list.js";

export interface QueuedCollectOptions {
  recipes: readonly Recipe[];
  /** Queue at most this many cycles (all repositories otherwise). */
  maxCycles?: number;
  scopes?: readonly CandidateScope[];
  maxFileCandidatesPerRecipe: number;
  testScopes: readonly CandidateScope[];
  /** How often job states are read. */
  pollMs?: number;
  onEvent?: (e: QueuedCollectEvent) => void | Promise<void>;
  signal?: AbortSignal;
}

export type QueuedCollectEvent =
  | { kind: "queued"; entry: ListEntry; jobId: string; recipes: number }
  | { kind: "skip"; entry: ListEntry; reason: string }
  | {
      kind: "cycle";
      entry: ListEntry;
      jobId: string;
      status: string;
      candidates: number;
      verified: number;
      stored: boolean;
      durationMs: number | null;
    }
  | { kind: "error"; entry: ListEntry; error: string };

interface Pending {
  entry: ListEntry;
  jobId: string;
}

export async function collectThroughQueue(
  entries: readonly ListEntry[],
  db: Db,
  queue: Queue,
  config: QueueConfig,
  o: QueuedCollectOptions,
): Promise<CollectResult> {
  const result: CollectResult = { cycles: 0, samples: 0, errors: 0, skipped: 0 };
  const emit = async (e: QueuedCollectEvent) => {
    await o.onEvent?.(e);
  };
  const fail = async (entry: ListEntry, error: string) => {
    result.errors++;
    await emit({ kind: "error", entry, error });
    await recordCollectionError(db, `${entry.owner}/${entry.name}`, entry.ref, error).catch(() => {});
  };
  const producer = createProducer(queue, config);
  const pending: Pending[] = [];
  for (const entry of entries) {
    if (o.signal?.aborted) break;
    if (o.maxCycles !== undefined && pending.length >= o.maxCycles) break;
    try {
      const queued = await enqueueEntry(entry, db, queue, producer, o);
      if (queued.kind === "skip") {
        result.skipped++;
        await emit({ kind: "skip", entry, reason: queued.reason });
      } else {
        pending.push({ entry, jobId: queued.jobId });
        await emit({ kind: "queued", entry, jobId: queued.jobId, recipes: queued.recipes });
      }
    } catch (err) {
      await fail(entry, err instanceof Error ? err.message : String(err));
    }
  }

  // Waits for the jobs: each is reported once, when it completed or failed for good.
  const pollMs = o.pollMs ?? 1000;
  while (pending.length > 0 && !o.signal?.aborted) {
    for (const p of [...pending]) {
      let job: Job | undefined;
      let state: string;
      try {
        state = await queue.getJobState(p.jobId);
        if (state !== "completed" && state !== "failed" && state !== "unknown") continue;
        job = await queue.getJob(p.jobId);
      } catch {
        // Redis is away for a moment: read again at the next poll.
        continue;
      }
      pending.splice(pending.indexOf(p), 1);
      if (!job || state === "unknown") {
        await fail(p.entry, `job ${p.jobId} disappeared from the queue`);
        continue;
      }
      if (state === "failed") {
        await fail(p.entry, job.failedReason || `job ${p.jobId} failed`);
        continue;
      }
      const r = job.returnvalue as CycleJobResult | null;
      if (!r || !("cycleId" in r) || r.status === "superseded") {
        result.skipped++;
        await emit({ kind: "skip", entry: p.entry, reason: r && "reason" in r ? r.reason : "nothing was run" });
        continue;
      }
      result.cycles++;
      result.samples += r.stored ? r.candidates : 0;
      await emit({
        kind: "cycle",
        entry: p.entry,
        jobId: p.jobId,
        status: r.status,
        candidates: r.candidates,
        verified: r.verified,
        stored: r.stored,
        durationMs: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : null,
      });
      if (r.status === "failed") await fail(p.entry, `cycle ${r.cycleId} failed (job ${p.jobId})`);
    }
    if (pending.length > 0) await sleep(pollMs, undefined, { signal: o.signal }).catch(() => {});
  }
  return result;
}

type Enqueued = { kind: "skip"; reason: string } | { kind: "queued"; jobId: string; recipes: number };

async function enqueueEntry(
  entry: ListEntry,
  db: Db,
  queue: Queue,
  producer: ReturnType<typeof createProducer>,
  o: QueuedCollectOptions,
): Promise<Enqueued> {
  const sha = await resolveSha(entry);
  const repo = await registerShadowRepository(db, { owner: entry.owner, name: entry.name, source: entry.source });
  // Shadow repositories are public and run by the operators; recording their consent makes it auditable.
  if (!repo.dataCollection) {
    await setConsent(db, repo.id, "dataCollection", true, { source: "operator", actor: "odavl collect" });
  }
  const done = await recordedRecipes(db, repo.id, sha);
  const remaining = o.recipes.filter((r) => !done.has(r.id));
  if (remaining.length === 0) {
    return { kind: "skip", reason: `all ${o.recipes.length} recipes already recorded at ${sha.slice(0, 7)}` };
  }
  const collection: CollectionOptions = {
    recipeIds: remaining.map((r) => r.id).sort(),
    testCommand: entry.testCommand,
    testScopes: [...o.testScopes],
    maxFileCandidatesPerRecipe: o.maxFileCandidatesPerRecipe,
  };
  const data: CycleJobData = {
    repositoryId: repo.id,
    repository: `${repo.owner}/${repo.name}`,
    sha,
    trigger: "shadow",
    collection,
  };
  const key = { trigger: "shadow" as const, collection: collectionKey(collection) };
  const jobId = cycleJobId(repo.id, sha, key);
  // A job of this id that failed for good is kept for inspection; collecting again retries it.
  const previous = await queue.getJob(jobId);
  if (previous && (await previous.getState()) === "failed") await previous.remove();
  await producer.enqueueCycle(data, key);
  return { kind: "queued", jobId, recipes: remaining.length };
}

/** What the job runs, as a short deterministic name: the same recipes and options give the same job id. */
function collectionKey(c: CollectionOptions): string {
  return createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);
}

/** The commit an entry names: the local repository's HEAD or ref, or the remote's HEAD or ref. */
async function resolveSha(entry: ListEntry): Promise<string> {
  if (entry.ref && /^[0-9a-f]{40}$/.test(entry.ref)) return entry.ref;
  const options = { cwd: tmpdir(), timeoutMs: 60_000, target: entry.source };
  if (entry.localPath && existsSync(entry.localPath)) {
    const out = await gitOk(
      ["-C", entry.localPath, "rev-parse", "--verify", "--end-of-options", `${entry.ref ?? "HEAD"}^{commit}`],
      { ...options, operation: "rev-parse" },
    );
    const sha = /^[0-9a-f]{40}/.exec(out.trim())?.[0];
    if (!sha) throw new Error(`could not resolve ${entry.ref ?? "HEAD"} in ${entry.source}`);
    return sha;
  }
  const ref = entry.ref ?? "HEAD";
  const out = await gitOk(["ls-remote", "--end-of-options", entry.source, ref, `${ref}^{}`], {
    ...options,
    operation: "ls-remote",
  });
  const lines = out
    .trim()
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((l): l is [string, string] => l.length === 2 && /^[0-9a-f]{40}$/.test(l[0] ?? ""));
  // A tag's peeled line (ref^{}) names the commit; the plain line names the tag object.
  const peeled = lines.find(([, name]) => name.endsWith("^{}"));
  const sha = (peeled ?? lines[0])?.[0];
  if (!sha) throw new Error(`${entry.source} has no ref ${ref}`);
  return sha;
}
