/**
 * Recipes on probation. A recipe whose verified failure rate is above {@link PROBATION}.maxFailureRate, across all
 * repositories (over its latest runs, with enough of them) or in this repository (with enough runs here), is shown
 * `manual-only` with the reason until the rate falls back. A recipe that the type check or the tests rejected in its
 * last few runs in a repository fails there for a reason that will not change (the repository's compiler options,
 * its type tests): it is muted there (not planned) and the summary says so. Recipes the operator let through
 * (`odavl recipes probation --override`) are neither.
 *
 * The records come from the stored outcomes through the cycle store (CycleStore.records in ports.ts); this module only judges them.
 */
import type { Candidate, Prediction, RecipeStanding } from "./types.js";

export type { RecipeStanding };

export const PROBATION = {
  /** A recipe failing verification more often than this is on probation. */
  maxFailureRate: 0.1,
  /** Runs across all repositories that count: the latest this many. */
  globalWindow: 500,
  /** At least this many runs across all repositories before the crowd's rate counts. */
  globalMinRuns: 30,
  /** At least this many runs in one repository before its own rate counts. */
  repoMinRuns: 10,
  /** Failures by the type check or the tests in a row, in one repository, that mute a recipe there. */
  muteAfter: 3,
} as const;

export interface RecipeRecordsQuery {
  /** The repository the cycle runs for; null counts only the crowd. */
  repositoryId: number | null;
  recipeIds: readonly string[];
  /** Only outcomes recorded before this instant count. */
  before: Date;
}

/** A recipe's verified outcomes (verifications that themselves failed say nothing of the recipe and are left out). */
export interface RecipeRecord {
  /** Latest {@link PROBATION}.globalWindow runs across all repositories, and how many of them failed. */
  globalRuns: number;
  globalFailures: number;
  /** Runs in this repository, and failures. */
  repoRuns: number;
  repoFailures: number;
  /** This repository's newest runs in a row that the type check or the tests rejected. */
  repoHardFailureStreak: number;
  /** The operator let the recipe through. */
  overridden: boolean;
}

export type RecipeRecords = ReadonlyMap<string, RecipeRecord>;

/** The standing of one recipe, or null when it is in good standing. */
export function standingOf(recipeId: string, r: RecipeRecord | undefined): RecipeStanding | null {
  if (!r || r.overridden) return null;
  if (r.repoHardFailureStreak >= PROBATION.muteAfter) {
    return {
      recipeId,
      status: "muted",
      reason: `muted in this repository: the type check or the tests rejected it in its last ${r.repoHardFailureStreak} runs here`,
    };
  }
  if (r.globalRuns >= PROBATION.globalMinRuns && r.globalFailures / r.globalRuns > PROBATION.maxFailureRate) {
    return {
      recipeId,
      status: "probation",
      reason: `fails verification in ${percent(r.globalFailures / r.globalRuns)} of ${r.globalRuns} runs`,
    };
  }
  if (r.repoRuns >= PROBATION.repoMinRuns && r.repoFailures / r.repoRuns > PROBATION.maxFailureRate) {
    return {
      recipeId,
      status: "probation",
      reason: `fails verification in ${percent(r.repoFailures / r.repoRuns)} of ${r.repoRuns} runs in this repository`,
    };
  }
  return null;
}

/** Standings of the recipes that are not in good standing, by recipe id. */
export function standings(recipeIds: readonly string[], records: RecipeRecords): Map<string, RecipeStanding> {
  const out = new Map<string, RecipeStanding>();
  for (const id of new Set(recipeIds)) {
    const s = standingOf(id, records.get(id));
    if (s) out.set(id, s);
  }
  return out;
}

/**
 * Candidates of recipes on probation (a bundle: any of its parts) are shown manual-only, the reason first. Returns
 * new predictions; the trust stays what the predictor said (the data keep what the model thought).
 */
export function applyProbation(
  candidates: readonly Candidate[],
  predictions: readonly Prediction[],
  standing: ReadonlyMap<string, RecipeStanding>,
): Prediction[] {
  return predictions.map((p, i) => {
    const c = candidates[i];
    const ids = c?.parts ? c.parts.map((r) => r.id) : c ? [c.recipe.id] : [];
    const s = ids.map((id) => standing.get(id)).find((x) => x !== undefined);
    if (!s) return p;
    const who = ids.length > 1 ? `${s.recipeId} ` : "";
    return { ...p, tier: "manual-only", reason: `On probation: ${who}${s.reason}. ${p.reason}` };
  });
}

/** "14%"; one decimal near the threshold, so that a rate just above it never reads as equal to it. */
function percent(rate: number): string {
  const p = rate * 100;
  return Math.round(p) === Math.round(PROBATION.maxFailureRate * 100) ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}
