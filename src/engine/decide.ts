/**
 * Decide: a feature vector per candidate, the model's and the heuristic's trust in one batch, and a tier from
 * the thresholds. Both scores are kept on every prediction so the two can be compared on the same samples.
 */
import { type TierThresholds as Thresholds, tierFor } from "../model/tiers.js";
import type { FeatureInput, Predictor, RecipeHistory } from "../model/types.js";
import type { Candidate, Prediction, RepoFacts } from "./types.js";

export type { Thresholds };

const EMPTY_HISTORY: RecipeHistory = {
  crowdSuccesses: 0,
  crowdRuns: 0,
  repoSuccesses: 0,
  repoRuns: 0,
  repoConsecutiveFailures: 0,
};

export interface DecideInput {
  candidates: readonly Candidate[];
  facts: RepoFacts;
  history: ReadonlyMap<string, RecipeHistory>;
  predictor: Predictor;
  computeFeatures: (input: FeatureInput) => number[];
  thresholds: Thresholds;
}

export async function decide(input: DecideInput): Promise<Prediction[]> {
  if (input.candidates.length === 0) return [];
  const priors = await input.predictor.recipePriors();
  const vectors = input.candidates.map((candidate) =>
    input.computeFeatures({
      candidate,
      facts: input.facts,
      history: input.history.get(candidate.recipe.id) ?? EMPTY_HISTORY,
      priors,
    }),
  );
  const batch = await input.predictor.score(vectors);
  // Latency is per batch; each prediction carries its share, so per-prediction figures add up to the batch.
  const perCandidateLatency = batch.latencyMs / input.candidates.length;
  return input.candidates.map((_, i) => {
    const h = batch.heuristic[i];
    if (!h) throw new Error(`decide: the predictor returned ${batch.heuristic.length} scores for ${vectors.length}`);
    const ml = batch.usedML ? (batch.ml?.[i] ?? null) : null;
    // A model that ran without deciding (not promoted) still has its score stored beside the heuristic's.
    const ran = batch.ml?.[i] ?? null;
    const chosen = ml ?? h;
    return {
      featureSchemaVersion: input.predictor.featureSchemaVersion,
      features: vectors[i] as number[],
      mlTrust: ran ? ran.trust : null,
      heuristicTrust: h.trust,
      trust: chosen.trust,
      tier: tierFor(chosen.trust, input.thresholds),
      usedML: ml !== null,
      fallbackCause: ml ? null : (batch.fallbackCause ?? "disabled"),
      modelVersion: ran ? batch.modelVersion : null,
      latencyMs: perCandidateLatency,
      confidence: chosen.confidence,
      reason: chosen.reason,
    };
  });
}
