/**
 * The cost budget of a cycle: with a wide catalog a cycle must still finish in time, so at most `max` candidates
 * are verified, those worth the most: expected value = trust × findings the candidate fixes. The rest are left out
 * and named in the summary. Data collection passes no cap (every candidate is a sample).
 */
import type { Candidate, CandidateCap, Prediction } from "./types.js";

/** Candidates verified per cycle unless the caller says otherwise (CYCLE_MAX_CANDIDATES, --max-candidates). */
export const DEFAULT_MAX_CANDIDATES = 40;

/** The cap of a request's `maxCandidates`: the default where it gives none, null (no cap) where it says so. */
export function capLimit(maxCandidates: number | null | undefined): number | null {
  return maxCandidates === undefined ? DEFAULT_MAX_CANDIDATES : maxCandidates;
}

export function expectedValue(candidate: Candidate, prediction: Prediction): number {
  return prediction.trust * candidate.targetFindings;
}

/**
 * The `max` candidates of highest expected value, in their original order, with their predictions; `max` null
 * keeps all. Ties keep the earlier candidate.
 */
export function capCandidates(
  candidates: readonly Candidate[],
  predictions: readonly Prediction[],
  max: number | null,
): { candidates: Candidate[]; predictions: Prediction[]; cap: CandidateCap | null } {
  if (max === null || candidates.length <= max) {
    return { candidates: [...candidates], predictions: [...predictions], cap: null };
  }
  const ranked = candidates
    .map((c, i) => ({ i, value: expectedValue(c, predictions[i] as Prediction) }))
    .sort((a, b) => b.value - a.value || a.i - b.i);
  const kept = new Set(ranked.slice(0, max).map((r) => r.i));
  const keep = candidates.map((_, i) => i).filter((i) => kept.has(i));
  return {
    candidates: keep.map((i) => candidates[i] as Candidate),
    predictions: keep.map((i) => predictions[i] as Prediction),
    cap: {
      max,
      planned: candidates.length,
      leftOut: ranked.slice(max).map((r) => {
        const c = candidates[r.i] as Candidate;
        return { key: c.key, recipe: c.recipe.id, expectedValue: r.value };
      }),
    },
  };
}
