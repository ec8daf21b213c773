import type { FileEdit, Recipe } from "../recipes/types.js";

export type Trigger = "push" | "pull_request" | "schedule" | "manual" | "cli" | "shadow" | "apply";
export type Tier = "auto-apply" | "review-suggested" | "manual-only";
export type TestStatus = "pass" | "fail" | "unknown";
export type CycleStatus = "running" | "completed" | "failed" | "superseded";

/** A TypeScript diagnostic. Compared as sets by {@link diagnosticKey}: positions move when code changes. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  code: number;
  message: string;
}

/** Key used to compare diagnostics before and after a patch (file, code and message; not the position). */
export function diagnosticKey(d: Pick<Diagnostic, "file" | "code" | "message">): string {
  return `${d.file}\u0000${d.code}\u0000${d.message}`;
}

export interface FilePatch extends FileEdit {
  linesAdded: number;
  linesRemoved: number;
}

export type CandidateScope = "all" | "file";

/** A recipe applied to a scope: a dry-run patch, not yet verified. */
export interface Candidate {
  /** recipe id + scope (+ file for file scope): unique within a cycle. */
  key: string;
  recipe: Recipe;
  scope: CandidateScope;
  files: FilePatch[];
  linesAdded: number;
  linesRemoved: number;
  /** Findings of the recipe's rule in the changed files before the patch. */
  targetFindings: number;
  /** Hash of the normalised patch: identical patches from different tools are verified once. */
  patchHash: string;
  /**
   * A bundled candidate: the recipes applied one after the other, each later one only on the lines the earlier
   * ones wrote (a fix and its follow-up, or two fixes touching the same lines). `recipe` then stands for the whole
   * (its id joins theirs with "+"). Absent for a single recipe.
   */
  parts?: readonly Recipe[];
}

/** The TypeScript that type-checked a cycle: the baseline and every candidate, always one compiler. */
export interface TypeCheckCompiler {
  version: string;
  /** "repository": its own node_modules/typescript; "product": the TypeScript odavl ships. */
  source: "repository" | "product";
  /** The repository's own TypeScript version when the product's checked instead. */
  repositoryVersion: string | null;
  /** Why the repository's TypeScript did not check (e.g. "has no language-service API"). */
  reason: string | null;
  /** Changes made to the repository's compiler options so that the product's TypeScript accepts them. */
  notes: string[];
}

/** Facts about the repository gathered by Observe. */
export interface RepoFacts {
  sourceFiles: number;
  testFiles: number;
  linesOfCode: number;
  hasTests: boolean;
  testCommand: string | null;
  /** Test status at baseline. */
  testsPassing: TestStatus;
  strict: boolean;
  compilerOptions: Record<string, unknown>;
  /** The repository's TypeScript version (the checker's when the repository has none that could be read). */
  typescriptVersion: string | null;
  /** Which compiler produced the type-check diagnostics (absent in facts stored before it was recorded). */
  typeCheck?: TypeCheckCompiler | null;
  baselineDiagnostics: number;
  baselineLintFindings: number;
  framework: string | null;
}

export interface LineCoverage {
  changedLines: number;
  coveredLines: number;
}

export interface Outcome {
  success: boolean;
  /** "verified": ran the checks; "error": the verification itself failed (see failureCause). */
  status: "verified" | "error";
  diagnosticsBefore: number;
  diagnosticsAfter: number;
  newDiagnostics: number;
  lintBefore: number;
  lintAfter: number;
  newLintFindings: number;
  targetBefore: number;
  targetAfter: number;
  tests: TestStatus;
  /** Why the tests did not count (or a note on how they ran), in one line a maintainer can act on. */
  testsReason?: string;
  /** Which tests ran: only those related to the changed files, or the full suite. */
  testsRun?: "related" | "full";
  /** How many of the changed lines (before the change) the baseline tests ran; null when it cannot be told. */
  coverage?: LineCoverage | null;
  verificationScore: number;
  failureCause?: string;
  durationsMs: { apply: number; typecheck: number; lint: number; tests: number; total: number };
  /** Key of the candidate whose identical patch was verified, when this outcome was shared. */
  sharedWith?: string;
  /**
   * New findings that are the next step of the same clean-up (the recipe's declared follow-ups, such as
   * prefer-const after no-var): not held against the fix, and not counted in `newLintFindings`. `bundle` is the
   * key of the bundled candidate that verifies the fix with its follow-up, when one could be built.
   */
  followUp?: { recipes: string[]; findings: number; bundle: string | null };
  /** What a reader should know beside the verdict (where the follow-up was verified). */
  note?: string;
}

export interface Prediction {
  featureSchemaVersion: number;
  features: number[];
  mlTrust: number | null;
  heuristicTrust: number;
  trust: number;
  tier: Tier;
  usedML: boolean;
  fallbackCause: string | null;
  modelVersion: string | null;
  latencyMs: number;
  confidence: number;
  reason: string;
}

export interface CandidateResult {
  candidate: Candidate;
  prediction: Prediction;
  outcome: Outcome | null;
}

/** A recipe not in good standing (src/engine/probation.ts). */
export interface RecipeStanding {
  recipeId: string;
  /** "probation": offered manual-only; "muted": not offered in this repository. */
  status: "probation" | "muted";
  reason: string;
}

/** The cost budget of a cycle: at most `max` candidates verified, those of highest expected value. */
export interface CandidateCap {
  max: number;
  /** Candidates planned before the cap. */
  planned: number;
  /** Those left out, highest expected value first (trust × findings fixed). */
  leftOut: { key: string; recipe: string; expectedValue: number }[];
}

export interface CycleSummary {
  id: string;
  repository: string;
  sha: string | null;
  trigger: Trigger;
  status: CycleStatus;
  startedAt: string;
  durationsMs: Record<string, number>;
  facts: RepoFacts | null;
  results: CandidateResult[];
  skipped: { file: string; reason: string }[];
  stored: boolean;
  error: string | null;
  /** Recipes on probation or muted in this repository (absent or empty: all in good standing). */
  standings?: RecipeStanding[];
  /** Set when the cost budget left candidates out. */
  cap?: CandidateCap;
  /** What Verify found done when it began: candidates linted, and type-checked, while the baseline's tests ran. */
  ahead?: CycleAhead;
}

/** Candidates whose lint (and type check) were done while the baseline's tests ran. */
export interface CycleAhead {
  linted: number;
  typeChecked: number;
}

export type { Recipe };

/** A change's files as the type checker and the linters take them: each path with its text after the change. */
export function overridesOf(files: readonly { path: string; after: string }[]): Map<string, string> {
  return new Map(files.map((f) => [f.path, f.after] as const));
}
