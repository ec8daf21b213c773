/**
 * Shadow collection: cycles over a list of public repositories, read-only (nothing is ever written to them; only
 * throwaway copies change). Resumable: what is already recorded for a repository, sha and recipe is skipped. One
 * failing repository never stops the run; its error is recorded.
 *
 * This runs the cycles in-process; with a queue, queue.ts hands them to the workers instead.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../db/client.js";
import { markRecipesTried, recordCollectionError, recordedRecipes } from "../db/queries/collection.js";
import { setConsent, upsertRepository } from "../db/queries/repositories.js";
import { runCycle } from "../engine/cycle.js";
import type { CycleDeps } from "../engine/ports.js";
import { DEFAULT_REPO_CONFIG } from "../engine/repo-config.js";
import { deadline } from "../engine/request.js";
import type { CandidateScope, CycleSummary } from "../engine/types.js";
import type { TierThresholds } from "../model/tiers.js";
import { selectRecipes } from "../recipes/index.js";
import type { Recipe } from "../recipes/types.js";
import { checkout, createWorkspaceRoot, installDependencies } from "../workspace/index.js";
import type { Ledger } from "./ledger.js";
import type { ListEntry } from "./list.js";

export interface CollectOptions {
  recipes: readonly Recipe[];
  thresholds: TierThresholds;
  /** Stop after this many cycles (all repositories otherwise). */
  maxCycles?: number;
  /** Cycles run at once. */
  concurrency: number;
  /** Time budget of one cycle; a cycle over it is aborted and recorded as an error. */
  cycleTimeoutMs: number;
  /** Recipes per cycle: each cycle's results are stored when it ends, so smaller chunks lose less to a timeout. */
  recipesPerCycle: number;
  scopes: readonly CandidateScope[];
  maxFileCandidatesPerRecipe: number;
  /** Scopes whose candidates run the tests. */
  testScopes: readonly CandidateScope[];
  installTimeoutMs: number;
  /** Recipes already run per repository and commit, kept beside the committed dataset (see ledger.ts). */
  ledger?: Ledger;
  onEvent?: (e: CollectEvent) => void;
  signal?: AbortSignal;
}

export type CollectEvent =
  | { kind: "start"; entry: ListEntry }
  | { kind: "skip"; entry: ListEntry; reason: string }
  | { kind: "cycle"; entry: ListEntry; summary: CycleSummary }
  | { kind: "error"; entry: ListEntry; error: string };

export interface CollectResult {
  cycles: number;
  samples: number;
  errors: number;
  skipped: number;
}

export async function collect(
  entries: readonly ListEntry[],
  db: Db,
  deps: CycleDeps,
  o: CollectOptions,
): Promise<CollectResult> {
  const result: CollectResult = { cycles: 0, samples: 0, errors: 0, skipped: 0 };
  const emit = o.onEvent ?? (() => {});
  const queue = [...entries];
  const budgetLeft = () => o.maxCycles === undefined || result.cycles < o.maxCycles;
  const worker = async () => {
    for (;;) {
      if (o.signal?.aborted || !budgetLeft()) return;
      const entry = queue.shift();
      if (!entry) return;
      emit({ kind: "start", entry });
      try {
        await collectEntry(entry, db, deps, o, result, emit, budgetLeft);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        result.errors++;
        emit({ kind: "error", entry, error: message });
        await recordCollectionError(db, `${entry.owner}/${entry.name}`, entry.ref, message).catch(() => {});
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  return result;
}

async function collectEntry(
  entry: ListEntry,
  db: Db,
  deps: CycleDeps,
  o: CollectOptions,
  result: CollectResult,
  emit: (e: CollectEvent) => void,
  budgetLeft: () => boolean,
): Promise<void> {
  let root = entry.localPath;
  let scratch: string | null = null;
  try {
    if (!root || entry.ref) {
      // A URL, or a ref of a local repository: a fresh checkout with dependencies installed without scripts.
      scratch = await createWorkspaceRoot("odavl-collect-");
      const co = await checkout({
        source: entry.source,
        ...(entry.ref ? { ref: entry.ref } : {}),
        dest: join(scratch, "repo"),
      });
      root = co.dir;
      await installDependencies(root, { timeoutMs: o.installTimeoutMs });
    }
    const sha = execFileSync("git", ["-C", root, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const repository = { owner: entry.owner, name: entry.name, mode: "shadow" as const, source: entry.source };
    const repo = await upsertRepository(db, repository);
    // Shadow repositories are public and run by the operators; recording their consent makes it auditable.
    await setConsent(db, repo.id, "dataCollection", true, { source: "operator", actor: "odavl collect" });
    const repositoryName = `${entry.owner}/${entry.name}`;
    const done = new Set([
      ...(await recordedRecipes(db, repo.id, sha)),
      ...(o.ledger?.done(repositoryName, sha) ?? []),
    ]);
    const remaining = o.recipes.filter((r) => !done.has(r.id));
    if (remaining.length === 0) {
      result.skipped++;
      emit({ kind: "skip", entry, reason: `all ${o.recipes.length} recipes already recorded at ${sha.slice(0, 7)}` });
      return;
    }
    for (let i = 0; i < remaining.length && budgetLeft(); i += o.recipesPerCycle) {
      const chunk = remaining.slice(i, i + o.recipesPerCycle);
      const limit = deadline(o.cycleTimeoutMs, o.signal);
      const summary = await runCycle(
        {
          root,
          repository,
          sha,
          trigger: "shadow",
          recipes: chunk,
          // Judged by every recipe, not the chunk: a verdict must not depend on how the recipes were split.
          judgeRecipes: selectRecipes({ disabled: DEFAULT_REPO_CONFIG.recipes.disable }),
          config: DEFAULT_REPO_CONFIG,
          thresholds: o.thresholds,
          scopes: o.scopes,
          maxFileCandidatesPerRecipe: o.maxFileCandidatesPerRecipe,
          // Every candidate is a sample: no cost budget.
          maxCandidates: null,
          runTests: true,
          testScopes: o.testScopes,
          // Every label from the candidate's own test run, never a group's.
          groupTests: false,
          ...(entry.testCommand ? { testCommand: entry.testCommand } : {}),
          collectData: true,
          signal: limit.signal,
        },
        // Collection samples every recipe, muted or not: probation is about what maintainers are offered, and
        // these samples are how a recipe earns its way back.
        { ...deps, store: deps.store ? { ...deps.store, records: undefined } : null },
      ).finally(limit.dispose);
      result.cycles++;
      result.samples += summary.stored ? summary.results.length : 0;
      if (summary.status === "completed") {
        const ids = chunk.map((r) => r.id);
        await markRecipesTried(db, summary.id, ids);
        await o.ledger?.record(repositoryName, sha, ids);
      }
      emit({ kind: "cycle", entry, summary });
      if (summary.status === "failed") throw new Error(summary.error ?? "cycle failed");
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
