import type { FamilyId, FileEdit, Finding, Recipe, Safety } from "../recipes/types.js";

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

/**
 * Key used to compare lint findings before and after a patch: file and rule. Not the message: a fix that merges two
 * imports turns two findings ('"A" is only used as a type', '"B" …') into one ('"A" and "B" …'), which is fewer
 * findings, not a new one.
 */
export function findingKey(f: Pick<Finding, "file" | "rule">): string {
  return `${f.file}\u0000${f.rule}`;
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
  typescriptVersion: string | null;
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
}

export type { FamilyId, Recipe, Safety };
