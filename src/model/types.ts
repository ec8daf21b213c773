import type { Candidate, RepoFacts } from "../engine/types.js";
import type { RecipePriors } from "./priors.js";

/** History of one recipe, computed only from outcomes recorded before the prediction. */
export interface RecipeHistory {
  /** Across all repositories. */
  crowdSuccesses: number;
  crowdRuns: number;
  /** In this repository. */
  repoSuccesses: number;
  repoRuns: number;
  repoConsecutiveFailures: number;
}

/** Everything a feature vector is computed from. Nothing that is only known after verification. */
export interface FeatureInput {
  candidate: Candidate;
  facts: RepoFacts;
  history: RecipeHistory;
  /** The recipe priors shipped with the model (null or absent: none, every recipe at the fallback rate). */
  priors?: RecipePriors | null;
}

export interface Score {
  /** Probability in [0, 1] that the candidate keeps type check, lint and tests green. */
  trust: number;
  /** In [0, 1]: how far the score is from the undecided middle, tempered by how much is known. */
  confidence: number;
  /** One line: the features that pushed the score most. */
  reason: string;
}

export interface ScoredBatch {
  /**
   * One per input, same order. Also set when the model ran but was not allowed to decide ("not-promoted"), so
   * its scores are stored beside the heuristic's for the report.
   */
  ml: Score[] | null;
  heuristic: Score[];
  usedML: boolean;
  /** Why the model did not decide, when it did not. */
  fallbackCause: FallbackCause | null;
  modelVersion: string | null;
  latencyMs: number;
}

export type FallbackCause =
  | "disabled"
  | "missing"
  | "corrupt"
  | "input-shape"
  | "schema-version"
  | "threw"
  | "nan"
  | "out-of-range"
  | "timeout"
  /** The model ran, but its card does not show it beats the heuristic on held-out repositories (the gate). */
  | "not-promoted";

/** Scores a cycle's candidates in one batch. The ONNX predictor and the heuristic-only predictor implement it. */
export interface Predictor {
  readonly featureSchemaVersion: number;
  /** The recipe priors of the model that will score the next batch (null when there is none). */
  recipePriors(): Promise<RecipePriors | null>;
  score(features: readonly number[][]): Promise<ScoredBatch>;
}
