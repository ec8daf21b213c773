/**
 * The heuristic: a transparent score computed from the stored feature vector alone, so that it can be re-evaluated
 * on any stored sample and compared with the model on the same data. It starts from the recipe's smoothed success
 * rate in this repository (which is the crowd rate until the repository has its own runs), moves it in logit space
 * by fixed amounts for what broke blind fixes in practice, and returns the sigmoid.
 */
import { featureIndex, MAX_CONSECUTIVE_FAILURES } from "./schema.js";
import type { Score } from "./types.js";

const I = {
  unsafe: featureIndex("recipe.unsafe"),
  crowdRuns: featureIndex("recipe.crowd.runs"),
  repoRate: featureIndex("history.repo.successRate"),
  repoRuns: featureIndex("history.repo.runs"),
  consecutiveFailures: featureIndex("history.repo.consecutiveFailures"),
  files: featureIndex("change.files"),
  linesAdded: featureIndex("change.linesAdded"),
  linesRemoved: featureIndex("change.linesRemoved"),
  exportedApi: featureIndex("change.touchesExportedApi"),
  typeTests: featureIndex("change.touchesTypeTests"),
  optionRisk: featureIndex("repo.ts.optionRisk"),
} as const;

/**
 * Logit adjustments. Unsafe fixes broke about 11% against 3% for safe ones (a logit gap of about 1.4); the
 * label matters less once the crowd has seen the recipe, because the crowd rate already carries it, so the
 * penalty fades with crowd evidence. The compiler-option penalties are small because the options only break
 * some recipes, and the heuristic cannot tell which.
 */
const HEURISTIC_WEIGHTS = {
  unsafe: -1.2,
  /** Per consecutive failure in this repository. */
  consecutiveFailure: -0.4,
  /** Times change.files (10 files give about 0.52). */
  files: -0.8,
  /** Times the mean of change.linesAdded and change.linesRemoved (40 lines give about 0.54). */
  lines: -0.5,
  exportedApi: -0.3,
  typeTests: -0.5,
  oldTypeScript: -0.5,
  noPropertyAccessFromIndexSignature: -0.3,
  strictNullChecks: -0.1,
  emitDecoratorMetadata: -0.4,
  moduleSyntax: -0.2,
} as const;

/** The compiler options that break some blind fixes, as the heuristic reads a repository's tsconfig. */
export interface CompilerOptionFlags {
  /** The TypeScript version is known and older than 4.5. */
  oldTypeScript: boolean;
  noPropertyAccessFromIndexSignature: boolean;
  strictNullChecks: boolean;
  emitDecoratorMetadata: boolean;
  /** isolatedModules or verbatimModuleSyntax. */
  moduleSyntax: boolean;
}

/** The largest compiler-option penalty, in logit units: all of them at once. */
const MAX_OPTION_PENALTY = -(
  HEURISTIC_WEIGHTS.oldTypeScript +
  HEURISTIC_WEIGHTS.noPropertyAccessFromIndexSignature +
  HEURISTIC_WEIGHTS.strictNullChecks +
  HEURISTIC_WEIGHTS.emitDecoratorMetadata +
  HEURISTIC_WEIGHTS.moduleSyntax
);

/**
 * The feature `repo.ts.optionRisk`: the heuristic's penalty for these options as a share of the largest one, in
 * [0, 1]. One number rather than the options themselves, so that the vector carries what the heuristic needs
 * without describing (and so identifying) the repository.
 */
export function compilerOptionRisk(f: CompilerOptionFlags): number {
  const w = HEURISTIC_WEIGHTS;
  // Magnitudes, summed from zero: no option on gives 0 (not -0).
  const cost =
    (f.oldTypeScript ? -w.oldTypeScript : 0) +
    (f.noPropertyAccessFromIndexSignature ? -w.noPropertyAccessFromIndexSignature : 0) +
    (f.strictNullChecks ? -w.strictNullChecks : 0) +
    (f.emitDecoratorMetadata ? -w.emitDecoratorMetadata : 0) +
    (f.moduleSyntax ? -w.moduleSyntax : 0);
  return cost / MAX_OPTION_PENALTY;
}

/** Base rates are clamped so that a few runs never produce certainty. */
const RATE_FLOOR = 0.02;
const RATE_CEILING = 0.98;

export interface HeuristicTerm {
  label: string;
  /** Contribution in logit units. */
  value: number;
}

const at = (v: ArrayLike<number>, i: number): number => v[i] ?? 0;
const logit = (p: number): number => Math.log(p / (1 - p));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

const TERM_LABELS = [
  "unsafe",
  "consecutive failures",
  "files changed",
  "lines changed",
  "exported API",
  "type-level tests",
  "compiler options",
] as const;

/** Writes each adjustment's logit change into `out` (in TERM_LABELS order) and returns the base logit. */
function computeTerms(v: ArrayLike<number>, out: Float64Array): number {
  const w = HEURISTIC_WEIGHTS;
  out[0] = w.unsafe * at(v, I.unsafe) * (1 - at(v, I.crowdRuns));
  out[1] = w.consecutiveFailure * MAX_CONSECUTIVE_FAILURES * at(v, I.consecutiveFailures);
  out[2] = w.files * at(v, I.files);
  out[3] = (w.lines * (at(v, I.linesAdded) + at(v, I.linesRemoved))) / 2;
  out[4] = w.exportedApi * at(v, I.exportedApi);
  out[5] = w.typeTests * at(v, I.typeTests);
  out[6] = -MAX_OPTION_PENALTY * at(v, I.optionRisk);
  return logit(Math.min(RATE_CEILING, Math.max(RATE_FLOOR, at(v, I.repoRate))));
}

/** The base and each adjustment, in logit units; their sum is the heuristic's logit. */
export function heuristicTerms(v: readonly number[]): { base: number; terms: HeuristicTerm[] } {
  const values = new Float64Array(TERM_LABELS.length);
  const base = computeTerms(v, values);
  return { base, terms: TERM_LABELS.map((label, i) => ({ label, value: values[i] as number })) };
}

/**
 * Distance from the undecided middle, tempered by evidence: with no runs of the recipe anywhere a score keeps
 * 40% of its distance, with plenty all of it.
 */
export function confidenceFor(trust: number, v: readonly number[]): number {
  const evidence = Math.max(at(v, I.crowdRuns), at(v, I.repoRuns));
  return Math.min(1, Math.max(0, Math.abs(2 * trust - 1) * (0.4 + 0.6 * evidence)));
}

export const signed = (x: number): string => (x >= 0 ? `+${x.toFixed(2)}` : x.toFixed(2));

/** Contributions smaller than this are not worth naming in a reason line. */
const REASON_MIN_CONTRIBUTION = 0.005;

/**
 * Indices of the (up to) three largest |values| at or above the reason threshold, largest first. A linear scan:
 * this runs for every candidate of every batch, and sorting would allocate.
 */
export function topThree(values: ArrayLike<number>): number[] {
  let a = -1;
  let b = -1;
  let c = -1;
  let va = REASON_MIN_CONTRIBUTION;
  let vb = REASON_MIN_CONTRIBUTION;
  let vc = REASON_MIN_CONTRIBUTION;
  for (let i = 0; i < values.length; i++) {
    const x = Math.abs(values[i] as number);
    if (x >= va && (a < 0 || x > va)) {
      c = b;
      vc = vb;
      b = a;
      vb = va;
      a = i;
      va = x;
    } else if (x >= vb && (b < 0 || x > vb)) {
      c = b;
      vc = vb;
      b = i;
      vb = x;
    } else if (x >= vc && (c < 0 || x > vc)) {
      c = i;
      vc = x;
    }
  }
  return [a, b, c].filter((i) => i >= 0);
}

const scratch = new Float64Array(TERM_LABELS.length);

/** The base plus every adjustment, each adjustment left in `out`. */
function logitInto(v: ArrayLike<number>, out: Float64Array): number {
  let z = computeTerms(v, out);
  for (let i = 0; i < out.length; i++) z += out[i] as number;
  return z;
}

export function heuristicScore(v: readonly number[]): Score {
  const trust = sigmoid(logitInto(v, scratch));
  let reason = `heuristic ${trust.toFixed(2)}: success rate ${at(v, I.repoRate).toFixed(2)}`;
  for (const i of topThree(scratch)) reason += `; ${TERM_LABELS[i]} ${signed(scratch[i] as number)}`;
  return { trust, confidence: confidenceFor(trust, v), reason };
}

/** The heuristic's logit: the base and every adjustment (what {@link heuristicScore} passes to the sigmoid). */
export function heuristicLogit(v: ArrayLike<number>): number {
  return logitInto(v, scratch);
}

/**
 * The heuristic's logit written as operations a model graph can run (a model that starts from the heuristic
 * computes it in the graph from the same features):
 *   logit(clamp(v[rate], floor, ceiling)) + Σ linear[j]·v[j] + Σ weight·v[a]·v[b] + Σ weight·max(v[a], v[b]).
 * Derived from {@link HEURISTIC_WEIGHTS} and the same feature indices as {@link computeTerms}; a test checks that
 * both give the same logit.
 */
export interface HeuristicForm {
  rate: number;
  floor: number;
  ceiling: number;
  linear: number[];
  products: { a: number; b: number; weight: number }[];
  maxima: { a: number; b: number; weight: number }[];
}

export function heuristicForm(featureCount: number): HeuristicForm {
  const w = HEURISTIC_WEIGHTS;
  const linear = new Array<number>(featureCount).fill(0);
  const add = (index: number, weight: number) => {
    linear[index] = (linear[index] as number) + weight;
  };
  // unsafe · (1 - crowdRuns) is a linear term minus a product.
  add(I.unsafe, w.unsafe);
  add(I.consecutiveFailures, w.consecutiveFailure * MAX_CONSECUTIVE_FAILURES);
  add(I.files, w.files);
  add(I.linesAdded, w.lines / 2);
  add(I.linesRemoved, w.lines / 2);
  add(I.exportedApi, w.exportedApi);
  add(I.typeTests, w.typeTests);
  add(I.optionRisk, -MAX_OPTION_PENALTY);
  return {
    rate: I.repoRate,
    floor: RATE_FLOOR,
    ceiling: RATE_CEILING,
    linear,
    products: [{ a: I.unsafe, b: I.crowdRuns, weight: -w.unsafe }],
    maxima: [],
  };
}

/** Evaluates a {@link HeuristicForm} on one vector (the graph's arithmetic, in double precision). */
export function evaluateHeuristicForm(form: HeuristicForm, v: ArrayLike<number>): number {
  const p = Math.min(form.ceiling, Math.max(form.floor, at(v, form.rate)));
  let z = logit(p);
  form.linear.forEach((weight, j) => {
    z += weight * at(v, j);
  });
  for (const t of form.products) z += t.weight * at(v, t.a) * at(v, t.b);
  for (const t of form.maxima) z += t.weight * Math.max(at(v, t.a), at(v, t.b));
  return z;
}

/** Heuristic scores of a batch; vectors must have the schema's length (see validateFeatureVector). */
export function heuristicScores(batch: readonly (readonly number[])[]): Score[] {
  return batch.map(heuristicScore);
}
