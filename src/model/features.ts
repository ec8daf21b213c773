/**
 * Feature schema v2: one ordered list of named features, shared by inference, storage and training. Changing a
 * feature's meaning, order or scaling means a new {@link FEATURE_SCHEMA_VERSION}: stored vectors and trained models
 * carry the version they were made with, and the predictor refuses a model of another version.
 *
 * Every feature is computed from what is known before verification (the candidate's dry-run patch, the
 * repository's facts, and outcomes recorded before the prediction). Counts are log-scaled into [0, 1] so that
 * logistic regression and the heuristic see comparable magnitudes and trees see stable thresholds.
 */
import type { Candidate, RepoFacts } from "../engine/types.js";
import type { FeatureInput, RecipeHistory } from "./types.js";

export const FEATURE_SCHEMA_VERSION = 2;

/**
 * Beta prior of the crowd success rate: mean 0.92 with the weight of five runs. Blind linter fixes that changed
 * code kept the build, lint and tests green about 92% of the time (DESIGN.md, "What breaks blind fixes"), so a
 * recipe nobody has run yet starts there and moves with its own evidence.
 */
export const CROWD_PRIOR = { successes: 4.6, failures: 0.4 } as const;
/** Weight, in runs, of the crowd rate when smoothing the repository's own rate towards it. */
const REPO_PRIOR_WEIGHT = 2;
/** Consecutive failures are counted up to this many; more say nothing new. */
export const MAX_CONSECUTIVE_FAILURES = 5;

const RECIPE_CATEGORIES = ["imports", "style", "types", "correctness", "modernize"] as const;

export type FeatureGroup = "recipe" | "history" | "change" | "repository";

interface FeatureContext {
  candidate: Candidate;
  facts: RepoFacts;
  history: RecipeHistory;
  crowdRate: number;
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
  // The repository.
  {
    name: "repo.baselineDiagnostics",
    group: "repository",
    meaning: "type-check diagnostics before any change",
    computation: "log1p(baselineDiagnostics) / log1p(10000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.facts.baselineDiagnostics, 10_000),
  },
  {
    name: "repo.baselineLintFindings",
    group: "repository",
    meaning: "lint findings of the catalog's rules before any change",
    computation: "log1p(baselineLintFindings) / log1p(100000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.facts.baselineLintFindings, 100_000),
  },
  {
    name: "repo.hasTests",
    group: "repository",
    meaning: "the repository has tests that verification runs",
    computation: "1 when hasTests, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.facts.hasTests),
  },
  {
    name: "repo.testsPassing",
    group: "repository",
    meaning: "the tests passed at baseline (so a fix can break them)",
    computation: '1 when testsPassing is "pass", else 0',
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.facts.testsPassing === "pass"),
  },
  {
    name: "repo.testsFailing",
    group: "repository",
    meaning: "the tests failed at baseline (unknown is neither passing nor failing)",
    computation: '1 when testsPassing is "fail", else 0',
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.facts.testsPassing === "fail"),
  },
  {
    name: "repo.strict",
    group: "repository",
    meaning: "the tsconfig enables `strict`",
    computation: "1 when strict, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.facts.strict),
  },
  {
    name: "repo.size",
    group: "repository",
    meaning: "size of the repository's TypeScript and JavaScript",
    computation: "log1p(linesOfCode) / log1p(10000000), at most 1",
    min: 0,
    max: 1,
    compute: (ctx) => logScale(ctx.facts.linesOfCode, 10_000_000),
  },
  {
    name: "repo.ts.versionKnown",
    group: "repository",
    meaning: "the TypeScript version could be read",
    computation: "1 when typescriptVersion contains major.minor, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(ctx.tsVersion !== null),
  },
  {
    name: "repo.ts.version",
    group: "repository",
    meaning: "the TypeScript version",
    computation: "(major + min(minor, 99) / 100) / 10, at most 1; 0 when unknown (5.4 gives 0.504)",
    min: 0,
    max: 1,
    compute: (ctx) =>
      ctx.tsVersion ? Math.min(1, (ctx.tsVersion.major + Math.min(ctx.tsVersion.minor, 99) / 100) / 10) : 0,
  },
  {
    name: "repo.ts.atLeast45",
    group: "repository",
    meaning: "TypeScript 4.5 or newer: inline `import { type X }` compiles",
    computation: "1 when the version is known and >= 4.5, else 0",
    min: 0,
    max: 1,
    compute: (ctx) =>
      bool(
        ctx.tsVersion !== null && (ctx.tsVersion.major > 4 || (ctx.tsVersion.major === 4 && ctx.tsVersion.minor >= 5)),
      ),
  },
  {
    name: "repo.ts.noPropertyAccessFromIndexSignature",
    group: "repository",
    meaning: 'turning `x["a"]` into `x.a` fails to compile',
    computation: "1 when compilerOptions.noPropertyAccessFromIndexSignature is true, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(option(ctx, "noPropertyAccessFromIndexSignature")),
  },
  {
    name: "repo.ts.strictNullChecks",
    group: "repository",
    meaning: "null checks are on: replacing `x!` with `x?.` changes types",
    computation: "compilerOptions.strictNullChecks when set, otherwise strict; 1 when on",
    min: 0,
    max: 1,
    compute: (ctx) => {
      const v = ctx.options.get("strictnullchecks");
      if (v === true || v === "true") return 1;
      if (v === false || v === "false") return 0;
      return bool(ctx.facts.strict);
    },
  },
  {
    name: "repo.ts.emitDecoratorMetadata",
    group: "repository",
    meaning: "decorator metadata is emitted: a type-only import can remove a value decorators need at run time",
    computation: "1 when compilerOptions.emitDecoratorMetadata is true, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(option(ctx, "emitDecoratorMetadata")),
  },
  {
    name: "repo.ts.experimentalDecorators",
    group: "repository",
    meaning: "legacy decorators are on (usually with decorator metadata and dependency injection)",
    computation: "1 when compilerOptions.experimentalDecorators is true, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(option(ctx, "experimentalDecorators")),
  },
  {
    name: "repo.ts.isolatedModules",
    group: "repository",
    meaning: "each file must compile alone: re-exported types need `export type`",
    computation: "1 when compilerOptions.isolatedModules is true, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(option(ctx, "isolatedModules")),
  },
  {
    name: "repo.ts.verbatimModuleSyntax",
    group: "repository",
    meaning: "imports are kept as written: the difference between `import` and `import type` matters",
    computation: "1 when compilerOptions.verbatimModuleSyntax is true, else 0",
    min: 0,
    max: 1,
    compute: (ctx) => bool(option(ctx, "verbatimModuleSyntax")),
  },
] satisfies FeatureDef[];

const FEATURES: readonly FeatureDef[] = defs;
const NAMES: readonly string[] = FEATURES.map((f) => f.name);
const INDEX = new Map(NAMES.map((n, i) => [n, i]));

export const FEATURE_COUNT = FEATURES.length;

/** The feature names, in vector order. */
export function featureNames(): readonly string[] {
  return NAMES;
}

/** Name, group, meaning, computation and range of every feature, in vector order. */
export function featureSpecs(): readonly FeatureSpec[] {
  return FEATURES.map(({ compute: _compute, ...spec }) => spec);
}

/** Position of a feature in the vector; throws for an unknown name (a typo must not read feature 0). */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new RangeError(`unknown feature "${name}" in schema v${FEATURE_SCHEMA_VERSION}`);
  return i;
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
    options,
    tsVersion: parseTypeScriptVersion(facts.typescriptVersion),
    changedLines: changedLines(candidate),
    testFiles: candidate.files.filter((f) => isTestPath(f.path)).length,
    typeTestFiles: candidate.files.filter((f) => isTypeTestPath(f.path)).length,
  };
  return FEATURES.map((f) => {
    const v = f.compute(ctx);
    // A defect in one input (a negative count, NaN from upstream) must not produce a vector the model never saw.
    if (!Number.isFinite(v)) return f.min;
    return Math.min(f.max, Math.max(f.min, v));
  });
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
