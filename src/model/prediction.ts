/** From a scored batch to the stored prediction of one candidate: the decider's score, both trusts, the tier. */
import type { Prediction } from "../engine/types.js";
import { FEATURE_SCHEMA_VERSION } from "./features.js";
import { type TierThresholds, tierFor } from "./tiers.js";
import type { ScoredBatch } from "./types.js";

export function predictionFor(
  batch: ScoredBatch,
  index: number,
  features: number[],
  thresholds: TierThresholds,
): Prediction {
  const heuristic = batch.heuristic[index];
  if (!heuristic) throw new RangeError(`no score for candidate ${index} in a batch of ${batch.heuristic.length}`);
  const ml = batch.usedML ? (batch.ml?.[index] ?? null) : null;
  const decider = ml ?? heuristic;
  return {
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    features,
    // The model's score is kept only when it was valid for the whole batch; otherwise it never decided.
    mlTrust: ml?.trust ?? null,
    heuristicTrust: heuristic.trust,
    trust: decider.trust,
    tier: tierFor(decider.trust, thresholds),
    usedML: ml !== null,
    fallbackCause: batch.fallbackCause,
    modelVersion: batch.modelVersion,
    // Scored in one batch: every candidate carries the batch's latency.
    latencyMs: batch.latencyMs,
    confidence: decider.confidence,
    reason: decider.reason,
  };
}
