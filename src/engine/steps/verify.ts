/**
 * Step 4, Verify: each candidate applied in isolation and judged (type check, lint, tests); identical patches
 * (from different tools) are verified once and share the outcome. Then the bundles the outcomes call for (a fix
 * with its follow-ups, two fixes on the same lines) are decided and verified, each once, as one candidate.
 */
import { collectFindings } from "../../recipes/index.js";
import type { Finding, Recipe } from "../../recipes/types.js";
import { planBundles } from "../bundles.js";
import { createRecipeWorkspace } from "../observe.js";
import type { TypeCheckerSession } from "../ports.js";
import { applyProbation } from "../probation.js";
import { CycleAbortedError, testsInScope } from "../request.js";
import { filesKey, shareEquivalentRuns, testableMembers, testInGroups } from "../test-groups.js";
import type { Candidate, CandidateResult, CycleAhead, Diagnostic, Outcome, Prediction } from "../types.js";
import { overridesOf } from "../types.js";
import { type CandidateTestRunner, errorOutcome, verifyCandidate } from "../verify.js";
import type { Planned } from "./act.js";
import { type Decided, predict } from "./decide.js";
import type { EarlyTests } from "./early-tests.js";
import type { Observation, RepositoryView } from "./observe.js";
import type { CycleRun } from "./run.js";

/**
 * What Verify computes once per change, and may have computed ahead: each candidate's lint (with its duration), its
 * type check, and the lint of the unchanged files. The cycle fills it from the moment Act has planned while the
 * baseline's tests still run ({@link VerifyMemo.warm}: this process and the type checker's are idle then), and
 * Verify reads from it.
 */
export interface VerifyMemo {
  /** The lint findings of these files before any change (each file's computed once). */
  baselineFindings(files: readonly string[]): Promise<Finding[]>;
  /** The lint findings of a candidate's changed files after its change (computed once per set of changes). */
  candidateFindings(candidate: Candidate): Promise<Finding[]>;
  /** How long the candidate's lint took, once it is done. */
  lintMs(candidate: Candidate): number | null;
  /** The type check of a set of changes (asked of the type checker once). */
  typeCheck(overrides: ReadonlyMap<string, string>): Promise<Diagnostic[]>;
  /**
   * Lints and type-checks the candidates in turn (the unchanged files' lint first) until `stop()`; best effort:
   * a failure is left for the candidate's own verification to report.
   */
  warm(candidates: readonly Candidate[], stop: () => boolean): Promise<CycleAhead>;
}

export function verifyMemo(run: CycleRun, view: RepositoryView, checker: Promise<TypeCheckerSession>): VerifyMemo {
  const { req, deps } = run;
  const judged = judgedRecipes(req);
  const findingsFor = async (overrides: ReadonlyMap<string, string>, files: readonly string[]): Promise<Finding[]> => {
    const ws = createRecipeWorkspace(req.root, view.sourceFiles, view.tsconfig.path, overrides);
    return collectFindings(ws, judged, files, deps.tools.family);
  };
  // The "before" side of the lint comparison comes from the same call as the "after" side, over the same files: a
  // plan's findings may be filtered differently (only what the fix can address), and comparing two different
  // measurements would report findings as new that were there all along. A file's findings do not depend on which
  // other files a call lints, so each file's are kept and a later call lints only the files not seen yet.
  const before = new Map<string, Promise<Finding[]>>();
  const baselineFindings = async (files: readonly string[]): Promise<Finding[]> => {
    const missing = [...new Set(files)].filter((f) => !before.has(f));
    if (missing.length > 0) {
      const all = findingsFor(new Map(), missing);
      for (const f of missing)
        before.set(
          f,
          all.then((list) => list.filter((x) => x.file === f)),
        );
    }
    const per = await Promise.all([...new Set(files)].map((f) => before.get(f) as Promise<Finding[]>));
    return per.flat();
  };
  const linted = new Map<string, { findings: Promise<Finding[]>; ms: number | null }>();
  const candidateFindings = (candidate: Candidate): Promise<Finding[]> => {
    const key = filesKey(candidate.files);
    let entry = linted.get(key);
    if (!entry) {
      const t0 = performance.now();
      // The lint's own duration is kept beside it: the outcome reports the lint's time, not the wait for a result.
      const started: { findings: Promise<Finding[]>; ms: number | null } = { findings: Promise.resolve([]), ms: null };
      started.findings = findingsFor(
        new Map(candidate.files.map((f) => [f.path, f.after] as const)),
        candidate.files.map((f) => f.path),
      ).finally(() => {
        started.ms = performance.now() - t0;
      });
      entry = started;
      linted.set(key, entry);
    }
    return entry.findings;
  };
  const checked = new Map<string, Promise<Diagnostic[]>>();
  const typeCheck = (overrides: ReadonlyMap<string, string>): Promise<Diagnostic[]> => {
    const key = filesKey([...overrides].map(([path, after]) => ({ path, after })));
    let r = checked.get(key);
    if (!r) {
      r = checker.then((c) => c.check(overrides));
      checked.set(key, r);
    }
    return r;
  };
  return {
    baselineFindings,
    candidateFindings,
    lintMs: (candidate) => linted.get(filesKey(candidate.files))?.ms ?? null,
    typeCheck,
    async warm(candidates, stop) {
      const ahead: CycleAhead = { linted: 0, typeChecked: 0 };
      // The unchanged files a few at a time: a lint under way when `stop()` turns true delays Verify.
      const touched = [...new Set(candidates.flatMap((c) => c.files.map((f) => f.path)))];
      for (let i = 0; i < touched.length; i += WARM_FILES) {
        if (stop()) return ahead;
        await baselineFindings(touched.slice(i, i + WARM_FILES)).catch(() => undefined);
      }
      for (const c of candidates) {
        if (stop()) return ahead;
        // Queued in the type checker's process while this one lints.
        typeCheck(overridesOf(c.files)).then(
          () => {
            ahead.typeChecked++;
          },
          () => undefined,
        );
        if (linted.has(filesKey(c.files))) continue;
        await candidateFindings(c).catch(() => undefined);
        ahead.linted++;
      }
      return ahead;
    },
  };
}

/** Unchanged files linted in one call while warming. */
const WARM_FILES = 8;

/** The recipes a candidate's lint is judged by: the repository's fixed set, and the cycle's own. */
function judgedRecipes(req: CycleRun["req"]): Recipe[] {
  return uniqueById([...(req.judgeRecipes ?? req.recipes), ...req.recipes]);
}

export async function verify(
  run: CycleRun,
  observed: Observation,
  planned: Planned,
  decided: Decided,
  memo: VerifyMemo,
  early: EarlyTests | null = null,
): Promise<CandidateResult[]> {
  const { req, deps, summary } = run;
  const judged = judgedRecipes(req);
  const { candidateFindings, lintMs } = memo;
  const byHash = new Map<string, { key: string; outcome: Outcome }>();
  const inScope = (c: Candidate) => testsInScope(req, c);
  let baselineFindings: Finding[] = [];
  // Type-check results by candidate, so that the test groups' choice and the verification check each once.
  const typeChecker = { check: memo.typeCheck };
  const typeCheckOf = (c: Candidate) => typeChecker.check(overridesOf(c.files));
  // Changes that give the tests the same code (twin recipes of two tools) share one run, grouped or not.
  const ownTests: CandidateTestRunner | null =
    observed.testsPassing === "pass" && run.sessions.tests ? shareEquivalentRuns(run.sessions.tests) : null;
  // Apply's re-verification runs its fix alone (and the full suite): never in a group.
  const grouping = ownTests !== null && req.groupTests !== false && req.trigger !== "apply";
  let tests = ownTests;
  let done = 0;
  let total = decided.candidates.length;
  const verifyAll = async (list: readonly Candidate[]): Promise<(Outcome | null)[]> => {
    const results: (Outcome | null)[] = [];
    for (const candidate of list) {
      if (req.signal?.aborted) throw new CycleAbortedError("verify");
      run.progress({ phase: "verify", done, total, candidate: candidate.key });
      const shared = byHash.get(candidate.patchHash);
      if (shared) {
        results.push({ ...shared.outcome, sharedWith: shared.key });
      } else {
        const outcome = await verifyOne(candidate, {
          baselineDiagnostics: observed.baselineDiagnostics,
          baselineFindings,
          recipes: judged,
          typeChecker,
          // Its own lint (verifyCandidate asks only for the candidate's changed files, after the change).
          findings: () => candidateFindings(candidate),
          tests: inScope(candidate) ? tests : null,
          testsReason: inScope(candidate)
            ? observed.testsReason
            : `tests not run for ${candidate.scope}-scope candidates`,
        });
        const ms = lintMs(candidate);
        const timed =
          ms === null
            ? outcome
            : { ...outcome, durationsMs: { ...outcome.durationsMs, lint: Math.round(ms * 1000) / 1000 } };
        byHash.set(candidate.patchHash, { key: candidate.key, outcome: timed });
        results.push(timed);
      }
      done++;
    }
    run.progress({ phase: "verify", done, total, candidate: "" });
    return results;
  };

  const testable = (runner: CandidateTestRunner, list: readonly Scored[]) =>
    testableMembers(
      runner,
      list.map((s) => s.candidate),
      typeChecker.check,
      observed.baselineDiagnostics,
    );
  /**
   * Those candidates' tests in groups (other processes), while their type checks go on in the type checker's
   * process, one at a time (where they did not go first), and this one lints each candidate in turn. The candidates likelier to break a test,
   * fixes that may change behaviour (unsafe recipes) and those not trusted enough to suggest (manual-only), are
   * tested apart from the others.
   */
  const groupTests = async (runner: CandidateTestRunner, list: readonly Scored[], lintFirst?: () => Promise<void>) => {
    const members = await testable(runner, list);
    const doubtful = new Set(
      list
        .filter((s) => s.candidate.recipe.safety === "unsafe" || s.prediction.tier === "manual-only")
        .map((s) => filesKey(s.candidate.files)),
    );
    const grouped =
      members.length < 2
        ? Promise.resolve(runner)
        : testInGroups(runner, members, {
            aborted: () => req.signal?.aborted === true,
            apart: (files) => doubtful.has(filesKey(files)),
          }).then((g) => g.runner);
    // Awaited below, or by lintAhead: a lint that throws first must not leave its failure unhandled.
    grouped.catch(() => undefined);
    typeCheckInTurn(list.map((s) => s.candidate));
    // The groups' processes are under way: this process's own lint (the unchanged files' findings, where the
    // warm-up did not get to them) no longer holds them up.
    await lintFirst?.();
    await lintAhead(
      list.map((s) => s.candidate),
      candidateFindings,
      grouped,
    );
    return grouped;
  };
  /**
   * The candidates' type checks, asked all at once (their results are kept for verification): the type checker's
   * process answers them one after another, never waiting for this one, which lints meanwhile.
   */
  const typeCheckInTurn = (list: readonly Candidate[]) => {
    for (const c of list) {
      if (req.signal?.aborted) return;
      // A type checker that fails is reported by the candidate's own verification, which asks again.
      typeCheckOf(c).catch(() => undefined);
    }
  };
  const scored = (list: readonly Candidate[], predictions: readonly Prediction[]): Scored[] =>
    list
      .map((candidate, i) => ({ candidate, prediction: predictions[i] as Prediction }))
      .filter((s) => inScope(s.candidate));

  const candidates = decided.candidates;
  const outcomes = await run.timed("verify", async () => {
    // Verify has begun (its lint baseline and the test groups come before the first candidate).
    run.progress({ phase: "verify", done: 0, total, candidate: "" });
    const touched = [...new Set(candidates.flatMap((c) => c.files.map((f) => f.path)))];
    const lintBaseline = async () => {
      baselineFindings = touched.length > 0 ? await memo.baselineFindings(touched) : [];
    };
    if (grouping && ownTests) {
      let base: CandidateTestRunner = ownTests;
      if (early) {
        // The runs that started while the baseline's tests ran: the type checker checks and this process lints
        // meanwhile.
        typeCheckInTurn(candidates);
        const settled = early.results();
        await lintBaseline();
        await lintAhead(candidates, candidateFindings, settled);
        base = (await early.results()) ?? ownTests;
      }
      tests = await groupTests(base, scored(candidates, decided.predictions), lintBaseline);
    } else await lintBaseline();
    return verifyAll(candidates);
  });

  const bundled = await run.timed("bundles", async () => {
    const made = await planBundles(candidates, outcomes, judged, {
      budget: req.config.budget,
      plan: async (recipe, overrides, files) => {
        // TypeScript's fixes need the whole program; the linters only the files they change.
        const ws = createRecipeWorkspace(
          req.root,
          recipe.family === "ts-codefix" ? observed.sourceFiles : files,
          observed.tsconfig.path,
          overrides,
        );
        const plan = await deps.tools.family(recipe).plan(ws, recipe);
        return plan.edits.filter((e) => files.includes(e.path));
      },
      targets: (recipes, files) => {
        const ids = new Set(recipes.map((r) => r.id));
        const inFiles = new Set(files);
        return baselineFindings.filter((f) => inFiles.has(f.file) && f.recipeId !== undefined && ids.has(f.recipeId))
          .length;
      },
    });
    summary.skipped.push(...made.skipped);
    if (made.bundles.length === 0) return { candidates: [], predictions: [], outcomes: [] };
    const predictions = applyProbation(made.bundles, await predict(run, decided.facts, made.bundles), planned.standing);
    total += made.bundles.length;
    if (grouping && ownTests) tests = await groupTests(ownTests, scored(made.bundles, predictions));
    return { candidates: made.bundles, predictions, outcomes: await verifyAll(made.bundles) };
  });

  return [
    ...results(candidates, decided.predictions, outcomes),
    ...results(bundled.candidates, bundled.predictions, bundled.outcomes),
  ];
}

/** A candidate with its prediction. */
interface Scored {
  candidate: Candidate;
  prediction: Prediction;
}

function results(
  candidates: readonly Candidate[],
  predictions: readonly CandidateResult["prediction"][],
  outcomes: readonly (Outcome | null)[],
): CandidateResult[] {
  return candidates.map((candidate, i) => ({
    candidate,
    prediction: predictions[i] as CandidateResult["prediction"],
    outcome: outcomes[i] ?? null,
  }));
}

async function verifyOne(candidate: Candidate, ctx: Parameters<typeof verifyCandidate>[1]): Promise<Outcome> {
  try {
    return await verifyCandidate(candidate, ctx);
  } catch (err) {
    // The verification itself failed (a tool crashed): recorded as not a success, with the cause; the cycle goes on.
    return errorOutcome(candidate, `verification failed: ${err instanceof Error ? err.message : String(err)}`, ctx);
  }
}

/**
 * Lints each candidate in turn until the groups' test runs are done (or every candidate is linted). A lint that
 * throws is not this loop's to report: the candidate's verification reads the same result and records the error.
 */
async function lintAhead(
  list: readonly Candidate[],
  lint: (c: Candidate) => Promise<Finding[]>,
  grouped: Promise<unknown>,
): Promise<void> {
  let settled = false;
  void grouped.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (const c of list) {
    if (settled) return;
    await lint(c).catch(() => undefined);
  }
}

function uniqueById(recipes: readonly Recipe[]): Recipe[] {
  return [...new Map(recipes.map((r) => [r.id, r] as const)).values()];
}
