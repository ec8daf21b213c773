/**
 * Synthetic candidate results (a candidate, both scores, a verified outcome) for benchmarks and tests that need
 * many stored samples: deterministic in (k, i), about one failure in eleven.
 */
import type { CandidateResult } from "../../src/engine/types.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";

/** An outcome's counts when its fix removed the one lint finding it targeted and changed nothing else. */
export const ONE_FINDING_FIXED = {
  diagnosticsBefore: 0,
  diagnosticsAfter: 0,
  newDiagnostics: 0,
  lintBefore: 1,
  lintAfter: 0,
  newLintFindings: 0,
  targetBefore: 1,
  targetAfter: 0,
} as const;

export function sampleResult(k: number, i: number): CandidateResult {
  const features = Array.from({ length: FEATURE_COUNT }, (_, j) => ((i * 31 + j * 7 + k) % 100) / 100);
  const success = (i + k) % 11 !== 0;
  return {
    candidate: {
      key: `bench/recipe-${i % 30}@file-${i}`,
      recipe: {
        id: `bench/recipe-${i % 30}`,
        family: "eslint",
        title: "bench",
        category: "style",
        safety: i % 3 ? "safe" : "unsafe",
        params: {},
      },
      scope: "file",
      files: [{ path: `src/file-${i}.ts`, before: "", after: "", linesAdded: 1, linesRemoved: 1 }],
      linesAdded: 1,
      linesRemoved: 1,
      targetFindings: 1,
      patchHash: `${k}-${i}`,
    },
    prediction: {
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      features,
      mlTrust: 0.8,
      heuristicTrust: 0.75,
      trust: 0.8,
      tier: "review-suggested",
      usedML: true,
      fallbackCause: null,
      modelVersion: "bench",
      latencyMs: 0.1,
      confidence: 0.5,
      reason: "bench",
    },
    outcome: {
      success,
      status: "verified",
      ...ONE_FINDING_FIXED,
      diagnosticsAfter: success ? 0 : 1,
      newDiagnostics: success ? 0 : 1,
      tests: "pass",
      verificationScore: success ? 1 : 0.6,
      durationsMs: { apply: 0, typecheck: 1, lint: 1, tests: 1, total: 3 },
    },
  };
}
