/**
 * Verify: apply each candidate in isolation and check it the way DESIGN.md "Outcomes" defines success:
 * no new type-check diagnostic (sets, not counts), no new lint finding and the recipe's own findings went down,
 * and the tests pass where they passed before (tests that did not pass before are "unknown", never "pass").
 */
import type { Finding, Recipe } from "../recipes/types.js";
import { lineMapping } from "./diff.js";
import type { Candidate, Diagnostic, LineCoverage, Outcome, TestStatus } from "./types.js";
import { diagnosticKey } from "./types.js";

/** Type-checks the repository with some files replaced; reuses the baseline's work. */
export interface CandidateTypeChecker {
  check(overrides: ReadonlyMap<string, string>): Promise<Diagnostic[]>;
}

/** One test run: its status, why it did not count when it did not, and which tests ran. */
export interface TestRun {
  status: TestStatus;
  reason?: string;
  durationMs: number;
  /** "related": only the tests the runner relates to the changed files; "full": the whole suite. */
  ran?: "related" | "full";
  /** The test files that failed, where the runner named them (vitest, jest): a failing group's halves run only these. */
  failedFiles?: string[];
}

/** Runs the repository's tests on an isolated copy with the given edits applied. */
export interface CandidateTestRunner {
  /**
   * `only`: run just these test files (those that failed in a larger group), through the runner's related-tests
   * line, instead of the tests related to the changed files. `signal`: stops this run (as the session's own signal
   * stops every run). `background`: at a lower CPU priority, on what CPU the cycle's other work leaves.
   */
  run(
    edits: readonly { path: string; before: string; after: string }[],
    options?: { only?: readonly string[]; signal?: AbortSignal; background?: boolean },
  ): Promise<TestRun>;
  /**
   * Why running the tests on these changes would only repeat the baseline's passing run (e.g. the changed files
   * compile to the same JavaScript), or null when they must run. Then the tests count as passed, with this reason.
   */
  unchanged?(files: readonly { path: string; before: string; after: string }[]): string | null;
  /**
   * A key of what the tests would run after these changes (e.g. the changed files' JavaScript), or null when only
   * identical edits are known to run the same: changes with equal keys share one run.
   */
  equivalent?(files: readonly { path: string; before: string; after: string }[]): string | null;
  /**
   * Whether the tests may type-check the code (ts-jest, tsc in the test command): then a change that fails the type
   * check fails the tests too, and a test group must not take it in.
   */
  checksTypes?(): boolean;
  /** How many runs may go at once (each in its own copy of the checkout); 1 when absent. */
  lanes?: number;
  /** Whether the result of these changes' run is already known (a group settled it): asking costs no run. */
  settled?(files: readonly { path: string; before: string; after: string }[]): boolean;
  /** How many of a candidate's changed lines the baseline tests ran; null when the coverage cannot tell. */
  coverage?(files: readonly { path: string; before: string; after: string }[]): LineCoverage | null;
}

/** Findings of the given recipes over some files, with some file contents replaced. */
export type FindingsFn = (
  overrides: ReadonlyMap<string, string>,
  recipes: readonly Recipe[],
  files: readonly string[],
) => Promise<Finding[]>;

export interface VerifyContext {
  baselineDiagnostics: readonly Diagnostic[];
  /** Baseline findings of every judged recipe, over the files candidates change. */
  baselineFindings: readonly Finding[];
  /**
   * The rules a candidate is judged by: every recipe the repository enables, whichever of them this cycle plans,
   * so that a verdict does not depend on the cycle's selection.
   */
  recipes: readonly Recipe[];
  typeChecker: CandidateTypeChecker;
  findings: FindingsFn;
  /** null when tests are not run; then `testsReason` says why. */
  tests: CandidateTestRunner | null;
  testsReason: string;
  now?: () => number;
}

/** Weights of the verification score: the type check matters most, then the tests, then lint. */
const SCORE_WEIGHTS = { typecheck: 0.4, tests: 0.35, lint: 0.25 } as const;

export async function verifyCandidate(candidate: Candidate, ctx: VerifyContext): Promise<Outcome> {
  const now = ctx.now ?? performance.now.bind(performance);
  const t0 = now();
  const overrides = new Map(candidate.files.map((f) => [f.path, f.after] as const));
  const changed = candidate.files.map((f) => f.path);
  const changedSet = new Set(changed);
  const durations = { apply: 0, typecheck: 0, lint: 0, tests: 0, total: 0 };
  durations.apply = now() - t0;

  // The type check (another process) and the lint (this one) go on at once: neither waits for the other. Each
  // duration runs from their common start to its own result.
  const t1 = now();
  const checking = ctx.typeChecker.check(overrides);
  const linting = Promise.resolve().then(() => ctx.findings(overrides, ctx.recipes, changed));
  // Awaited below once the type check has answered; a type check that throws first leaves it unawaited.
  linting.catch(() => undefined);
  const after = await checking;
  durations.typecheck = now() - t1;
  const newDiagnostics = countNew(ctx.baselineDiagnostics.map(diagnosticKey), after.map(diagnosticKey));

  const lintBeforeList = ctx.baselineFindings.filter((f) => changedSet.has(f.file));
  const lintAfterList = await linting;
  durations.lint = now() - t1;
  const fresh = newFindings(lintBeforeList, lintAfterList, candidate.files);
  // A bundle is judged without follow-ups: it is the fix with its next step already taken.
  const followUps = new Set(candidate.parts ? [] : (candidate.recipe.followUps ?? []));
  const followUpFindings = fresh.filter((f) => f.recipeId !== undefined && followUps.has(f.recipeId));
  const blamed = followUpFindings.length === fresh.length ? [] : fresh;
  const newLintFindings = blamed.length;
  const targets = new Set((candidate.parts ?? [candidate.recipe]).map((r) => r.id));
  const targetBefore = lintBeforeList.filter((f) => f.recipeId !== undefined && targets.has(f.recipeId)).length;
  const targetAfter = lintAfterList.filter((f) => f.recipeId !== undefined && targets.has(f.recipeId)).length;

  let tests: TestStatus = "unknown";
  let testsReason: string | undefined = ctx.testsReason;
  let testsRun: TestRun["ran"];
  const coverage = ctx.tests?.coverage?.(candidate.files) ?? null;
  const unchangedReason = newDiagnostics > 0 ? null : (ctx.tests?.unchanged?.(candidate.files) ?? null);
  if (ctx.tests && newDiagnostics > 0) {
    // The candidate already failed; its tests would only cost time (they often cannot even compile).
    testsReason = "not run: the type check already failed";
  } else if (unchangedReason) {
    tests = "pass";
    testsReason = unchangedReason;
  } else if (ctx.tests) {
    const t3 = now();
    const r = await ctx.tests.run(candidate.files);
    durations.tests = now() - t3;
    tests = r.status;
    testsReason = r.reason;
    testsRun = r.ran;
  }

  const typecheckOk = newDiagnostics === 0;
  const lintOk = newLintFindings === 0 && targetAfter < targetBefore;
  const success = typecheckOk && lintOk && tests !== "fail";
  const testScore = tests === "pass" ? 1 : tests === "unknown" ? 0.5 : 0;
  const lintScore = lintOk ? 1 : newLintFindings === 0 ? 0.5 : 0;
  const verificationScore = round(
    SCORE_WEIGHTS.typecheck * (typecheckOk ? 1 : 0) + SCORE_WEIGHTS.tests * testScore + SCORE_WEIGHTS.lint * lintScore,
  );
  durations.total = now() - t0;
  const failureCause = success
    ? undefined
    : !typecheckOk
      ? `${newDiagnostics} new type-check diagnostic${newDiagnostics === 1 ? "" : "s"}: ${firstNew(ctx.baselineDiagnostics, after)}`
      : newLintFindings > 0
        ? `${newLintFindings} new lint finding${newLintFindings === 1 ? "" : "s"}: ${describeFinding(blamed[0])}`
        : !lintOk
          ? "the recipe's own findings did not go down"
          : `tests failed${testsReason ? `: ${testsReason}` : ""}`;
  return {
    success,
    status: "verified",
    diagnosticsBefore: ctx.baselineDiagnostics.length,
    diagnosticsAfter: after.length,
    newDiagnostics,
    lintBefore: lintBeforeList.length,
    lintAfter: lintAfterList.length,
    newLintFindings,
    targetBefore,
    targetAfter,
    tests,
    ...(testsReason ? { testsReason } : {}),
    ...(testsRun ? { testsRun } : {}),
    coverage,
    verificationScore,
    ...(failureCause ? { failureCause } : {}),
    durationsMs: mapValues(durations, round),
    ...(blamed.length === 0 && followUpFindings.length > 0
      ? {
          followUp: {
            recipes: [...new Set(followUpFindings.map((f) => f.recipeId as string))].sort(),
            findings: followUpFindings.length,
            bundle: null,
          },
        }
      : {}),
  };
}

/**
 * After-findings that no before-finding accounts for. A before-finding accounts for one after-finding of the same
 * file and rule at the line its own line maps to through the patch (see {@link lineMapping}: a line inside a
 * changed hunk may match anywhere in the hunk's new lines). Not the message: a fix that merges two imports turns
 * two findings into one with another message, which is fewer findings, not a new one. Matching greedily is exact
 * here: two before-findings' ranges are either the same hunk's or disjoint.
 */
export function newFindings(
  before: readonly Finding[],
  after: readonly Finding[],
  patches: readonly { path: string; before: string; after: string }[],
): Finding[] {
  const maps = new Map(patches.map((p) => [p.path, lineMapping(p.before, p.after)] as const));
  const open = new Map<string, { from: number; to: number }[]>();
  for (const f of before) {
    const range = maps.get(f.file)?.(f.line) ?? { from: f.line, to: f.line };
    const key = `${f.file}\u0000${f.rule}`;
    open.set(key, [...(open.get(key) ?? []), range]);
  }
  const out: Finding[] = [];
  for (const f of after) {
    const ranges = open.get(`${f.file}\u0000${f.rule}`) ?? [];
    const i = ranges.findIndex((r) => r.from <= f.line && f.line <= r.to);
    if (i >= 0) ranges.splice(i, 1);
    else out.push(f);
  }
  return out;
}

/** An outcome for a candidate whose verification itself failed (a tool crashed): never a success. */
export function errorOutcome(
  candidate: Candidate,
  cause: string,
  ctx: Pick<VerifyContext, "baselineDiagnostics">,
): Outcome {
  return {
    success: false,
    status: "error",
    diagnosticsBefore: ctx.baselineDiagnostics.length,
    diagnosticsAfter: ctx.baselineDiagnostics.length,
    newDiagnostics: 0,
    lintBefore: candidate.targetFindings,
    lintAfter: candidate.targetFindings,
    newLintFindings: 0,
    targetBefore: candidate.targetFindings,
    targetAfter: candidate.targetFindings,
    tests: "unknown",
    testsReason: "verification did not complete",
    verificationScore: 0,
    failureCause: cause,
    durationsMs: { apply: 0, typecheck: 0, lint: 0, tests: 0, total: 0 },
  };
}

/** Number of keys in `after` beyond their count in `before` (multiset difference). */
export function countNew(before: readonly string[], after: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const k of before) counts.set(k, (counts.get(k) ?? 0) + 1);
  let n = 0;
  for (const k of after) {
    const c = counts.get(k) ?? 0;
    if (c > 0) counts.set(k, c - 1);
    else n++;
  }
  return n;
}

function firstNew(before: readonly Diagnostic[], after: readonly Diagnostic[]): string {
  const seen = new Map<string, number>();
  for (const d of before) seen.set(diagnosticKey(d), (seen.get(diagnosticKey(d)) ?? 0) + 1);
  for (const d of after) {
    const k = diagnosticKey(d);
    const c = seen.get(k) ?? 0;
    if (c > 0) seen.set(k, c - 1);
    else return `${d.file}:${d.line} TS${d.code} ${d.message}`.slice(0, 200);
  }
  return "";
}

function describeFinding(f: Finding | undefined): string {
  return f ? `${f.file}:${f.line} ${f.rule} ${f.message}`.slice(0, 200) : "";
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function mapValues<T extends Record<string, number>>(o: T, f: (n: number) => number): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)])) as T;
}
