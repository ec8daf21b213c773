/**
 * Feature schema v3: one ordered list of named features, shared by inference, storage and training. Changing a
 * feature's meaning, order or scaling means a new {@link FEATURE_SCHEMA_VERSION}: stored vectors and trained models
 * carry the version they were made with, and the predictor refuses a model of another version.
 *
 * Every feature is computed from what is known before verification (the candidate's dry-run patch, the
 * repository's facts, and outcomes recorded before the prediction). Counts are log-scaled into [0, 1] so that
 * logistic regression and the heuristic see comparable magnitudes and trees see stable thresholds.
 */
import type { Candidate, RepoFacts } from "../engine/types.js";
import { type CompilerOptionFlags, compilerOptionRisk, heuristicLogit } from "./heuristic.js";
import { FALLBACK_RATE, PRIOR_WEIGHT, priorOf, type RecipePrior } from "./priors.js";
import { FEATURE_NAMES, FEATURE_SCHEMA_VERSION, featureIndex, MAX_CONSECUTIVE_FAILURES } from "./schema.js";
import type { FeatureInput, RecipeHistory } from "./types.js";

export { FEATURE_SCHEMA_VERSION, featureIndex };

/**
 * Beta prior of the crowd success rate: mean 0.92 with the weight of five runs. Blind linter fixes that changed
 * code kept the build, lint and tests green about 92% of the time (DESIGN.md, "What breaks blind fixes"), so a
 * recipe nobody has run yet starts there and moves with its own evidence.
 */
export const CROWD_PRIOR = { successes: 4.6, failures: 0.4 } as const;
/** Weight, in runs, of the crowd rate when smoothing the repository's own rate towards it. */
const REPO_PRIOR_WEIGHT = 2;
/** A smoothed rate is never 0 or 1; the clamp only keeps a corrupt prior from leaving the range. */
const PRIOR_LOGIT_RANGE = { min: -7, max: 7 } as const;
const priorLogit = (prior: RecipePrior): number => {
  const p = prior.successRate;
  return Math.min(PRIOR_LOGIT_RANGE.max, Math.max(PRIOR_LOGIT_RANGE.min, Math.log(p / (1 - p))));
};
/** Prior runs are log-scaled up to this many. */
const PRIOR_RUNS_CAP = 10_000;
/** The heuristic's logit is clamped to this range (its terms reach about -10.7 and +3.9). */
const HEURISTIC_LOGIT_RANGE = { min: -12, max: 5 } as const;

const RECIPE_CATEGORIES = ["imports", "style", "types", "correctness", "modernize"] as const;

export type FeatureGroup = "recipe" | "history" | "change" | "repository" | "heuristic";

interface FeatureContext {
  candidate: Candidate;
  facts: RepoFacts;
  history: RecipeHistory;
  crowdRate: number;
  prior: RecipePrior;
  options: Map<string, unknown>;
  tsVersion: { major: number; minor: number } | null;
  changedLines: string[];
  testFiles: number;
  typeTestFiles: number;
}

export interface FeatureSpec {
  name: string;
  group: FeatureGroup;
  /** What it means. */
  meaning: string;
  /** How it is computed, in words (the code is below). */
  computation: string;
  min: number;
  max: number;
}

interface FeatureDef extends FeatureSpec {
  compute(ctx: FeatureContext): number;
}

const bool = (b: boolean): number => (b ? 1 : 0);

/** log1p(n) / log1p(cap), clamped to [0, 1]: 0 for none, 1 for `cap` or more. */
function logScale(n: number, cap: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(1, Math.log1p(n) / Math.log1p(cap));
}

function option(ctx: FeatureContext, name: string): boolean {
  const v = ctx.options.get(name.toLowerCase());
  return v === true || v === "true";
}

const defs = [
  // Recipe.
  ...(["ts-codefix", "eslint", "biome"] as const).map(
    (family): FeatureDef => ({
      name: `recipe.family.${family === "ts-codefix" ? "tsCodefix" : family}`,
      group: "recipe",
      meaning: `the recipe belongs to the ${family} family`,
      computation: `1 when recipe.family is "${family}", else 0`,
      min: 0,
      max: 1,
      compute: (ctx) => bool(ctx.candidate.recipe.family === family),
    }),
  ),
  ...RECIPE_CATEGORIES.map(
    (category): FeatureDef => ({
      name: `recipe.category.${category}`,
      group: "recipe",
      meaning: `the recipe's category is "${category}"`,
      computation: `1 when recipe.category is "${category}", else 0`,
      min: 0,
      max: 1,
      compute: (ctx) => bool(ctx.candidate.recipe.category === category),
    }),
  ),
  {
    name: "recipe.category.other",
    group: "recipe",
    meaning: "the recipe's category is none of the known ones",
    computation: `1 when recipe.category is not one of ${RECIPE_CATEGORIES.join(", ")}, else 0`,
    min: 0,
    max: 1,
    compute: (ctx) => bool(!(RECIPE_CATEGORIES as readonly string[]).includes(ctx.candidate.recipe.category)),
  },
  {
    name: "recipe.unsafe",
    group: "recipe",
    meaning: "the tool labels the fix unsafe (it may change behaviour)",
    computation: '1 when recipe.safety is "unsafe", 0 when "safe"',
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.candidate.recipe.safety === "unsafe"),
  },
  {
    name: "recipe.prior.logit",
    group: "recipe",
    meaning:
      "how often this recipe succeeded in other repositories, in logit units (as the heuristic's score): the prior shipped with the model; in training, from the other repositories' rows only",
    computation: `logit(p), p = (successes + ${PRIOR_WEIGHT} * global rate) / (runs + ${PRIOR_WEIGHT}) over the prior's outcomes of this recipe (a Beta prior worth ${PRIOR_WEIGHT} runs at the rate of all the prior's outcomes); a recipe the prior does not know gets the global rate, and without a model ${FALLBACK_RATE}; clamped to [${PRIOR_LOGIT_RANGE.min}, ${PRIOR_LOGIT_RANGE.max}]`,
    min: PRIOR_LOGIT_RANGE.min,
    max: PRIOR_LOGIT_RANGE.max,
    compute: (ctx) => priorLogit(ctx.prior),
  },
  {
    name: "recipe.prior.runs",
    group: "recipe",
    meaning: "how many outcomes of this recipe in other repositories back its prior",
    computation: `log1p(runs) / log1p(${PRIOR_RUNS_CAP}), at most 1`,
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.prior.runs, PRIOR_RUNS_CAP),
  },
  {
    name: "recipe.crowd.successRate",
    group: "recipe",
    meaning: "how often this recipe succeeded across all repositories, before this prediction",
    computation: `(crowdSuccesses + ${CROWD_PRIOR.successes}) / (crowdRuns + ${CROWD_PRIOR.successes + CROWD_PRIOR.failures}): a Beta prior of mean 0.92 worth five runs`,
    min: 0,
    max: 1,
    compute: (ctx) => ctx.crowdRate,
  },
  {
    name: "recipe.crowd.runs",
    group: "recipe",
    meaning: "how much crowd evidence there is for this recipe",
    computation: "log1p(crowdRuns) / log1p(100000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.history.crowdRuns, 100_000),
  },
  // History of this recipe in this repository.
  {
    name: "history.repo.successRate",
    group: "history",
    meaning: "how often this recipe succeeded in this repository, before this prediction",
    computation: `(repoSuccesses + ${REPO_PRIOR_WEIGHT} * recipe.crowd.successRate) / (repoRuns + ${REPO_PRIOR_WEIGHT}): the crowd rate until the repository has its own evidence`,
    min: 0,
    max: 1,
    compute: (ctx) =>
      (ctx.history.repoSuccesses + REPO_PRIOR_WEIGHT * ctx.crowdRate) / (ctx.history.repoRuns + REPO_PRIOR_WEIGHT),
  },
  {
    name: "history.repo.runs",
    group: "history",
    meaning: "how often this recipe was verified in this repository",
    computation: "log1p(repoRuns) / log1p(1000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.history.repoRuns, 1000),
  },
  {
    name: "history.repo.consecutiveFailures",
    group: "history",
    meaning: "failures of this recipe in this repository since its last success",
    computation: `min(repoConsecutiveFailures, ${MAX_CONSECUTIVE_FAILURES}) / ${MAX_CONSECUTIVE_FAILURES}`,
    min: 0,
    max: 1,
    compute: (ctx) =>
      Math.min(Math.max(ctx.history.repoConsecutiveFailures, 0), MAX_CONSECUTIVE_FAILURES) / MAX_CONSECUTIVE_FAILURES,
  },
  // The change.
  {
    name: "change.files",
    group: "change",
    meaning: "files the patch changes",
    computation: "log1p(files) / log1p(100), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.candidate.files.length, 100),
  },
  {
    name: "change.linesAdded",
    group: "change",
    meaning: "lines the patch adds",
    computation: "log1p(linesAdded) / log1p(1000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.candidate.linesAdded, 1000),
  },
  {
    name: "change.linesRemoved",
    group: "change",
    meaning: "lines the patch removes",
    computation: "log1p(linesRemoved) / log1p(1000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.candidate.linesRemoved, 1000),
  },
  {
    name: "change.testFileShare",
    group: "change",
    meaning: "share of the changed files that are tests",
    computation:
      "changed files whose path is a test (*.test.*, *.spec.*, *.test-d.*, or under test/, tests/, __tests__/, spec/) / changed files; 0 for no files",
    min: 0,
    max: 1,
    compute: (ctx) => (ctx.candidate.files.length === 0 ? 0 : ctx.testFiles / ctx.candidate.files.length),
  },
  {
    name: "change.touchesTypeTests",
    group: "change",
    meaning: "the patch changes a type-level test, where inferred types are asserted",
    computation:
      "1 when a changed file matches *.test-d.ts(x) or lies under a type-tests/ or typetests/ folder, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.typeTestFiles > 0),
  },
  {
    name: "change.touchesExportedApi",
    group: "change",
    meaning: "the patch changes a line of the public surface",
    computation:
      "1 when a line removed or added by the patch (lines of `before` not in `after` and the reverse, as multisets) contains the word `export`, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.changedLines.some((l) => /\bexport\b/.test(l))),
  },
  {
    name: "change.targetFindings",
    group: "change",
    meaning: "findings of the recipe's rule in the changed files before the patch",
    computation: "log1p(targetFindings) / log1p(1000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.candidate.targetFindings, 1000),
  },
  {
    name: "change.fileScope",
    group: "change",
    meaning: "the candidate covers one file rather than the whole repository",
    computation: '1 when scope is "file", 0 when "all"',
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.candidate.scope === "file"),
  },
  // The repository, only as far as the heuristic needs it: one number, not a description of the repository.
  {
    name: "repo.ts.optionRisk",
    group: "repository",
    meaning:
      "how much the repository's compiler options put blind fixes at risk, as the heuristic weighs them (TypeScript older than 4.5, noPropertyAccessFromIndexSignature, strictNullChecks, emitDecoratorMetadata, isolatedModules or verbatimModuleSyntax)",
    computation:
      "the heuristic's logit penalty for the options that are on, divided by the penalty for all of them (see heuristic.ts, compilerOptionRisk)",
    min: 0,
    max: 1,
    compute: (ctx) => compilerOptionRisk(compilerOptionFlags(ctx)),
  },
  // The heuristic.
  {
    name: "heuristic.logit",
    group: "heuristic",
    meaning: "the heuristic's score, in logit units: its judgement as one input of the model",
    computation: `the heuristic's logit (heuristic.ts) of the features above, clamped to [${HEURISTIC_LOGIT_RANGE.min}, ${HEURISTIC_LOGIT_RANGE.max}]`,
    min: HEURISTIC_LOGIT_RANGE.min,
    max: HEURISTIC_LOGIT_RANGE.max,
    // Filled in by computeFeatures once the features it reads are known.
    compute: () => 0,
  },
] satisfies FeatureDef[];

const FEATURES: readonly FeatureDef[] = defs;
const NAMES: readonly string[] = FEATURES.map((f) => f.name);
if (NAMES.join() !== FEATURE_NAMES.join()) throw new Error("features.ts and schema.ts list different features");
const HEURISTIC_COLUMN = featureIndex("heuristic.logit");
const PRIOR_LOGIT_COLUMN = featureIndex("recipe.prior.logit");
const PRIOR_RUNS_COLUMN = featureIndex("recipe.prior.runs");

/**
 * Writes the features `recipe.prior.*` of `prior` into the vector at `offset` (training sets them for each row
 * from other repositories' outcomes, as computeFeatures does from the shipped priors).
 */
export function writePriorFeatures(v: { [i: number]: number }, offset: number, prior: RecipePrior): void {
  const z = priorLogit(prior);
  // NaN (a rate of exactly 0 or 1 over 0 runs cannot happen, but a corrupt prior can) reads as the lowest value.
  v[offset + PRIOR_LOGIT_COLUMN] = Number.isFinite(z) ? z : PRIOR_LOGIT_RANGE.min;
  v[offset + PRIOR_RUNS_COLUMN] = logScale(prior.runs, PRIOR_RUNS_CAP);
}

export const FEATURE_COUNT = FEATURES.length;

/** The feature names, in vector order. */
export function featureNames(): readonly string[] {
  return NAMES;
}

/** Name, group, meaning, computation and range of every feature, in vector order. */
export function featureSpecs(): readonly FeatureSpec[] {
  return FEATURES.map(({ compute: _compute, ...spec }) => spec);
}

const TEST_PATH = /(^|\/)(__tests__|__mocks__|tests?|spec|e2e)\/|\.(test|spec|test-d|spec-d|e2e)\.[cm]?[jt]sx?$/i;
const TYPE_TEST_PATH = /\.test-d\.[cm]?tsx?$|(^|\/)(type-?tests|types?-tests?|typetests)\//i;

function isTestPath(path: string): boolean {
  return TEST_PATH.test(path);
}

function isTypeTestPath(path: string): boolean {
  return TYPE_TEST_PATH.test(path);
}

/** Lines in `a` that `b` lacks, counted as multisets (a line moved within a file is not a change). */
function missingLines(a: string[], b: string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of b) counts.set(line, (counts.get(line) ?? 0) + 1);
  const out: string[] = [];
  for (const line of a) {
    const c = counts.get(line) ?? 0;
    if (c > 0) counts.set(line, c - 1);
    else out.push(line);
  }
  return out;
}

/** Lines removed or added by the candidate's patch, across its files. */
export function changedLines(candidate: Candidate): string[] {
  const out: string[] = [];
  for (const f of candidate.files) {
    const before = f.before.split(/\r?\n/);
    const after = f.after.split(/\r?\n/);
    out.push(...missingLines(before, after), ...missingLines(after, before));
  }
  return out;
}

function parseTypeScriptVersion(v: string | null): { major: number; minor: number } | null {
  if (!v) return null;
  const m = /(\d+)\.(\d+)/.exec(v);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Smoothed crowd success rate of a recipe (also the repository rate's prior). */
function crowdSuccessRate(history: Pick<RecipeHistory, "crowdSuccesses" | "crowdRuns">): number {
  const s = Math.max(0, history.crowdSuccesses);
  const n = Math.max(s, history.crowdRuns);
  return (s + CROWD_PRIOR.successes) / (n + CROWD_PRIOR.successes + CROWD_PRIOR.failures);
}

export function computeFeatures(input: FeatureInput): number[] {
  const { candidate, facts, history } = input;
  const options = new Map<string, unknown>();
  // tsc reads compiler option names case-insensitively.
  for (const [k, v] of Object.entries(facts.compilerOptions ?? {})) options.set(k.toLowerCase(), v);
  const ctx: FeatureContext = {
    candidate,
    facts,
    history,
    crowdRate: crowdSuccessRate(history),
    prior: priorOf(input.priors, candidate.recipe.id),
    options,
    tsVersion: parseTypeScriptVersion(facts.typescriptVersion),
    changedLines: changedLines(candidate),
    testFiles: candidate.files.filter((f) => isTestPath(f.path)).length,
    typeTestFiles: candidate.files.filter((f) => isTypeTestPath(f.path)).length,
  };
  const v = FEATURES.map((f) => clampTo(f, f.compute(ctx)));
  v[HEURISTIC_COLUMN] = clampTo(FEATURES[HEURISTIC_COLUMN] as FeatureDef, heuristicLogit(v));
  return v;
}

/** A defect in one input (a negative count, NaN from upstream) must not produce a vector the model never saw. */
function clampTo(f: FeatureSpec, v: number): number {
  if (!Number.isFinite(v)) return f.min;
  return Math.min(f.max, Math.max(f.min, v));
}

function compilerOptionFlags(ctx: FeatureContext): CompilerOptionFlags {
  const v = ctx.tsVersion;
  const strictNull = ctx.options.get("strictnullchecks");
  return {
    oldTypeScript: v !== null && (v.major < 4 || (v.major === 4 && v.minor < 5)),
    noPropertyAccessFromIndexSignature: option(ctx, "noPropertyAccessFromIndexSignature"),
    // Set on its own, or through strict.
    strictNullChecks:
      strictNull === true || strictNull === "true"
        ? true
        : strictNull === false || strictNull === "false"
          ? false
          : ctx.facts.strict,
    emitDecoratorMetadata: option(ctx, "emitDecoratorMetadata"),
    moduleSyntax: option(ctx, "isolatedModules") || option(ctx, "verbatimModuleSyntax"),
  };
}

export interface FeatureIssue {
  kind: "length" | "not-finite" | "out-of-range";
  /** Feature position; -1 for a length problem. */
  index: number;
  name: string | null;
  value: number | null;
  message: string;
}

/** Problems of a stored or computed vector against this schema: empty when it is valid. */
export function validateFeatureVector(v: readonly unknown[]): FeatureIssue[] {
  const issues: FeatureIssue[] = [];
  if (v.length !== FEATURE_COUNT) {
    issues.push({
      kind: "length",
      index: -1,
      name: null,
      value: v.length,
      message: `expected ${FEATURE_COUNT} features (schema v${FEATURE_SCHEMA_VERSION}), got ${v.length}`,
    });
  }
  const n = Math.min(v.length, FEATURE_COUNT);
  for (let i = 0; i < n; i++) {
    const spec = FEATURES[i] as FeatureDef;
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      issues.push({
        kind: "not-finite",
        index: i,
        name: spec.name,
        value: typeof x === "number" ? x : null,
        message: `${spec.name}: not a finite number`,
      });
    } else if (x < spec.min || x > spec.max) {
      issues.push({
        kind: "out-of-range",
        index: i,
        name: spec.name,
        value: x,
        message: `${spec.name}: ${x} outside [${spec.min}, ${spec.max}]`,
      });
    }
  }
  return issues;
}

/** The feature table of docs/features.md, generated from the schema so that the two cannot drift apart. */
export function renderFeatureTable(): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const rows = FEATURES.map(
    (f, i) =>
      `| ${i} | \`${f.name}\` | ${f.group} | ${esc(f.meaning)} | ${esc(f.computation)} | [${f.min}, ${f.max}] |`,
  );
  return [
    "| # | name | group | meaning | computation | range |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
