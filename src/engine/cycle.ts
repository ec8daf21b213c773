/**
 * The autopilot cycle: Observe, Candidates, Decide, Verify, Learn. It knows nothing of GitHub or queues; its
 * collaborators (database, predictor, tools, clock) come in as arguments.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../db/client.js";
import { finishCycle, startCycle } from "../db/queries/cycles.js";
import { findRepositoryById, type RepositoryIdentity, upsertRepository } from "../db/queries/repositories.js";
import type { FeatureInput, Predictor, RecipeHistory } from "../model/types.js";
import { prepareRecipes } from "../recipes/index.js";
import type { Recipe, RecipeFamily } from "../recipes/types.js";
import { capCandidates, DEFAULT_MAX_CANDIDATES } from "./budget.js";
import { planBundles } from "./bundles.js";
import { buildCandidates } from "./candidates.js";
import { decide, type Thresholds } from "./decide.js";
import {
  collectFacts,
  createRecipeWorkspace,
  isSourceFile,
  ObserveError,
  readPackageJson,
  readTsconfig,
} from "./observe.js";
import { applyProbation, type RecipeRecords, type RecipeRecordsQuery, standings } from "./probation.js";
import type { RepoConfig } from "./repo-config.js";
import type {
  Candidate,
  CandidateResult,
  CandidateScope,
  CycleSummary,
  Diagnostic,
  Outcome,
  Trigger,
  TypeCheckCompiler,
} from "./types.js";
import { type CandidateTestRunner, errorOutcome, type TestRun, verifyCandidate } from "./verify.js";

export interface TypeCheckerSession {
  typescriptVersion: string | null;
  /** Which compiler checks, for the facts and the summary. */
  compiler?: TypeCheckCompiler;
  baseline(): Promise<Diagnostic[]>;
  check(overrides: ReadonlyMap<string, string>): Promise<Diagnostic[]>;
  close(): Promise<void>;
}

export interface TestSession extends CandidateTestRunner {
  /** The command, for facts and the summary. */
  command: string;
  /** The full suite on the unchanged repository; it also records which lines the tests run. */
  baseline(): Promise<TestRun>;
  close(): Promise<void>;
}

/** How to run the tests when the repository or the operator says (`.github/odavl.yml` tests, a collection list). */
export interface TestOptions {
  /** A shell line that runs the tests, instead of the one read from package.json. */
  command?: string;
  /** A shell line run before the tests in each copy. */
  setup?: string;
  /** Wall-time limit of one run. */
  timeoutMs?: number;
  /** Every candidate runs the whole suite: no related-tests run, no skipped run (Apply re-verifies so). */
  fullSuite?: boolean;
}

/** What the cycle needs from the machine: listing files, type checking, running tests. */
export interface CycleTools {
  listFiles(root: string): Promise<{ files: string[]; skipped: { file: string; reason: string }[] }>;
  startTypeChecker(root: string, tsconfigPath: string | null): Promise<TypeCheckerSession>;
  /** null with a reason when the repository's tests cannot or must not run. */
  startTests(root: string, options?: TestOptions): Promise<TestSession | { unavailable: string }>;
  family(recipe: Recipe): RecipeFamily;
  /** Releases what the tools cached for a checkout (language services, linters). */
  dispose?(root: string): void;
}

export interface CycleDeps {
  /** null: store nothing (--no-store). */
  db: Db | null;
  predictor: Predictor;
  tools: CycleTools;
  computeFeatures: (input: FeatureInput) => number[];
  loadHistory?: (
    db: Db,
    q: { repositoryId: number; recipeIds: string[]; before: Date; cycleId?: string | null; sha?: string | null },
  ) => Promise<Map<string, RecipeHistory>>;
  /** The recipes' verified outcomes and the operator's overrides, for probation (absent: all in good standing). */
  loadRecords?: (q: RecipeRecordsQuery) => Promise<RecipeRecords>;
  clock?: () => Date;
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { phase: "observe" | "candidates" | "decide" | "learn"; message: string }
  | { phase: "verify"; done: number; total: number; candidate: string };

export interface CycleRequest {
  root: string;
  repository: RepositoryIdentity;
  sha: string | null;
  trigger: Trigger;
  /** Identity of the run; a retried job passes the same key and reuses its cycle. Random when absent. */
  runKey?: string;
  /**
   * The stored repository a queued job runs for. When given, the cycle only looks it up: a repository removed
   * while its job was on the way is never recreated (RepositoryGoneError). Without it (the CLI, collection), the
   * repository is registered as needed.
   */
  repositoryId?: number;
  /** The recipes this cycle plans candidates for (a selection, a collection chunk). */
  recipes: readonly Recipe[];
  /**
   * The rules every candidate is judged by: all recipes the repository's configuration enables, whichever of them
   * this cycle plans, so that a fix's verdict does not depend on the selection (no-var's let is prefer-const's
   * finding whether or not prefer-const is planned too). `recipes` are always judged as well. Defaults to
   * `recipes`, which makes verdicts depend on the selection: callers set it.
   */
  judgeRecipes?: readonly Recipe[];
  config: RepoConfig;
  thresholds: Thresholds;
  scopes: readonly CandidateScope[];
  maxFileCandidatesPerRecipe?: number;
  /** The cost budget: candidates verified at most (default {@link DEFAULT_MAX_CANDIDATES}); null: no cap. */
  maxCandidates?: number | null;
  runTests: boolean;
  /** Scopes whose candidates run the tests (default: all). Collection may test only "all" to go faster. */
  testScopes?: readonly CandidateScope[];
  /** A shell command that runs the tests, instead of the configured one or the one read from package.json. */
  testCommand?: string;
  /** Data-collection consent as known when the job started; re-checked before anything is stored. */
  collectData: boolean;
  signal?: AbortSignal;
}

class RepositoryGoneError extends Error {
  constructor(readonly repositoryId: number) {
    super(`repository ${repositoryId} no longer exists (removed while its job was on the way)`);
    this.name = "RepositoryGoneError";
  }
}

class CycleAbortedError extends Error {
  constructor(readonly phase: string) {
    super(`cycle aborted during ${phase}`);
    this.name = "CycleAbortedError";
  }
}

export async function runCycle(req: CycleRequest, deps: CycleDeps): Promise<CycleSummary> {
  const clock = deps.clock ?? (() => new Date());
  const progress = deps.onProgress ?? (() => {});
  const startedAt = clock();
  const t0 = performance.now();
  const durations: Record<string, number> = {};
  const timed = async <T>(phase: string, f: () => Promise<T>): Promise<T> => {
    if (req.signal?.aborted) throw new CycleAbortedError(phase);
    const t = performance.now();
    try {
      return await f();
    } finally {
      durations[phase] = Math.round(performance.now() - t);
    }
  };

  // 0. Register the run.
  const repo = deps.db
    ? req.repositoryId !== undefined
      ? await findRepositoryById(deps.db, req.repositoryId)
      : await upsertRepository(deps.db, req.repository)
    : null;
  if (deps.db && !repo) throw new RepositoryGoneError(req.repositoryId ?? -1);
  const cycle =
    deps.db && repo
      ? await startCycle(deps.db, {
          repositoryId: repo.id,
          runKey: req.runKey ?? randomUUID(),
          sha: req.sha,
          trigger: req.trigger,
        })
      : null;
  const summary: CycleSummary = {
    id: cycle?.id ?? randomUUID(),
    repository: `${req.repository.owner}/${req.repository.name}`,
    sha: req.sha,
    trigger: req.trigger,
    status: "running",
    startedAt: startedAt.toISOString(),
    durationsMs: durations,
    facts: null,
    results: [],
    skipped: [],
    stored: false,
    error: null,
  };

  let typeChecker: TypeCheckerSession | null = null;
  let tests: TestSession | null = null;
  let unexpected: unknown = null;
  try {
    // 1. Observe.
    progress({ phase: "observe", message: "reading the repository" });
    const observed = await timed("observe", async () => {
      const listing = await deps.tools.listFiles(req.root);
      summary.skipped.push(...listing.skipped);
      const tsconfig = readTsconfig(req.root, listing.files);
      if (tsconfig.outsideFiles.length > 0) {
        const n = tsconfig.outsideFiles.length;
        summary.skipped.push({
          file: "tsconfig.json",
          reason: `includes ${n} file${n === 1 ? "" : "s"} outside the repository (ignored)`,
        });
      }
      const listed = new Set(listing.files);
      const sourceFiles = (tsconfig.path ? tsconfig.fileNames : listing.files).filter(
        (f) => listed.has(f) && isSourceFile(f),
      );
      if (sourceFiles.length === 0) {
        throw new ObserveError("no TypeScript source files found (is this a TypeScript repository?)", req.root);
      }
      const ws = createRecipeWorkspace(req.root, sourceFiles, tsconfig.path);
      // The baseline's type check and its tests run side by side: neither needs the other.
      progress({ phase: "observe", message: "type-checking the baseline" });
      const typeCheck = deps.tools.startTypeChecker(req.root, tsconfig.path).then((checker) => {
        typeChecker = checker;
        return checker.baseline().then((diagnostics) => ({ checker, diagnostics }));
      });
      const baselineTests = async () => {
        let testsPassing: "pass" | "fail" | "unknown" = "unknown";
        let testsReason = "tests not run (--no-tests)";
        let testCommand: string | null = null;
        if (req.runTests) {
          progress({ phase: "observe", message: "running the tests at baseline" });
          const configured = req.config.tests;
          const command = req.testCommand ?? configured?.command;
          const t = await deps.tools.startTests(req.root, {
            ...(command ? { command } : {}),
            ...(configured?.setup ? { setup: configured.setup } : {}),
            ...(configured?.timeout ? { timeoutMs: configured.timeout * 1000 } : {}),
            ...(req.trigger === "apply" ? { fullSuite: true } : {}),
          });
          if ("unavailable" in t) {
            testsReason = t.unavailable;
          } else {
            tests = t;
            testCommand = t.command;
            const b = await t.baseline();
            testsPassing = b.status;
            testsReason =
              b.status === "pass" ? "" : `tests did not pass before the change: ${b.reason ?? "status unknown"}`;
          }
        }
        return { testsPassing, testsReason, testCommand };
      };
      const [checked, tested] = await Promise.allSettled([typeCheck, baselineTests()]);
      if (checked.status === "rejected") throw checked.reason;
      if (tested.status === "rejected") throw tested.reason;
      const { checker, diagnostics: baselineDiagnostics } = checked.value;
      const { testsPassing, testsReason, testCommand } = tested.value;
      return {
        ws,
        tsconfig,
        sourceFiles,
        listing,
        checker,
        baselineDiagnostics,
        testsPassing,
        testsReason,
        testCommand,
      };
    });

    // 2. Candidates (each recipe's findings come with its plan, all of a family's in one run of its tool); recipes
    // muted in this repository are not planned.
    const standing = standings(
      req.recipes.map((r) => r.id),
      deps.loadRecords && repo
        ? await deps.loadRecords({ repositoryId: repo.id, recipeIds: req.recipes.map((r) => r.id), before: startedAt })
        : new Map(),
    );
    if (standing.size > 0) summary.standings = [...standing.values()];
    const recipes = req.recipes.filter((r) => standing.get(r.id)?.status !== "muted");
    progress({ phase: "candidates", message: `planning ${recipes.length} recipes` });
    const planned = await timed("candidates", async () => {
      await prepareRecipes(observed.ws, recipes, deps.tools.family);
      return buildCandidates(observed.ws, recipes, deps.tools.family, {
        budget: req.config.budget,
        protectedPaths: req.config.protectedPaths,
        scopes: req.scopes,
        maxFileCandidatesPerRecipe: req.maxFileCandidatesPerRecipe ?? 3,
      });
    });
    for (const e of planned.errors) summary.skipped.push({ file: "(recipe)", reason: `${e.recipe}: ${e.error}` });
    summary.skipped.push(...planned.skipped);
    const baselineFindings = planned.planned.flatMap((p) => p.findings.map((f) => ({ ...f, recipeId: p.recipe.id })));
    const facts = collectFacts({
      files: observed.listing.files,
      sourceFiles: observed.sourceFiles,
      read: observed.ws.read,
      tsconfig: observed.tsconfig,
      typescriptVersion: (typeChecker as TypeCheckerSession | null)?.typescriptVersion ?? null,
      typeCheck: (typeChecker as TypeCheckerSession | null)?.compiler ?? null,
      testCommand: observed.testCommand,
      testsPassing: observed.testsPassing,
      baselineDiagnostics: observed.baselineDiagnostics.length,
      baselineLintFindings: baselineFindings.length,
      packageJson: readPackageJson(req.root),
    });
    summary.facts = facts;

    // 3. Decide, then keep to the cost budget the candidates of highest expected value.
    progress({ phase: "decide", message: `scoring ${planned.candidates.length} candidates` });
    const scored = await timed("decide", async () => {
      const candidates = planned.candidates;
      const history =
        deps.db && repo && deps.loadHistory
          ? await deps.loadHistory(deps.db, {
              repositoryId: repo.id,
              recipeIds: [...new Set(candidates.map((c) => c.recipe.id))],
              before: startedAt,
              // A retried cycle's earlier attempt and other runs on this commit are not history.
              cycleId: cycle?.id ?? null,
              sha: req.sha,
            })
          : new Map<string, RecipeHistory>();
      return decide({
        candidates,
        facts,
        history,
        predictor: deps.predictor,
        computeFeatures: deps.computeFeatures,
        thresholds: req.thresholds,
      });
    });
    const capped = capCandidates(
      planned.candidates,
      scored,
      req.maxCandidates === undefined ? DEFAULT_MAX_CANDIDATES : req.maxCandidates,
    );
    if (capped.cap) summary.cap = capped.cap;
    const candidates = capped.candidates;
    const predictions = applyProbation(candidates, capped.predictions, standing);

    // 4. Verify: identical patches (from different tools) are verified once and share the outcome.
    const checker = observed.checker;
    const judged = uniqueById([...(req.judgeRecipes ?? req.recipes), ...req.recipes]);
    const findingsFor = async (
      overrides: ReadonlyMap<string, string>,
      recipes: readonly Recipe[],
      files: readonly string[],
    ) => {
      const ws = createRecipeWorkspace(req.root, observed.sourceFiles, observed.tsconfig.path, overrides);
      // One call per family: each batches its work (one language-service pass, one lint, one Biome run).
      const byFamily = new Map<string, Recipe[]>();
      for (const r of recipes) byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r]);
      const found = await Promise.all(
        [...byFamily.values()].map((list) => deps.tools.family(list[0] as Recipe).findings(ws, list, files)),
      );
      return found.flat();
    };
    const byHash = new Map<string, { key: string; outcome: Outcome }>();
    const testsInScope = (c: Candidate) => !req.testScopes || req.testScopes.includes(c.scope);
    let verifyBaseline: Awaited<ReturnType<typeof findingsFor>> = [];
    let done = 0;
    let total = candidates.length;
    const verifyAll = async (list: readonly Candidate[]): Promise<(Outcome | null)[]> => {
      const results: (Outcome | null)[] = [];
      for (const candidate of list) {
        if (req.signal?.aborted) throw new CycleAbortedError("verify");
        progress({ phase: "verify", done, total, candidate: candidate.key });
        const shared = byHash.get(candidate.patchHash);
        if (shared) {
          results.push({ ...shared.outcome, sharedWith: shared.key });
        } else {
          const outcome = await verifyOne(candidate, {
            baselineDiagnostics: observed.baselineDiagnostics,
            baselineFindings: verifyBaseline,
            recipes: judged,
            typeChecker: checker,
            findings: findingsFor,
            tests: observed.testsPassing === "pass" && testsInScope(candidate) ? tests : null,
            testsReason: testsInScope(candidate)
              ? observed.testsReason
              : `tests not run for ${candidate.scope}-scope candidates`,
          });
          byHash.set(candidate.patchHash, { key: candidate.key, outcome });
          results.push(outcome);
        }
        done++;
      }
      progress({ phase: "verify", done, total, candidate: "" });
      return results;
    };
    const outcomes = await timed("verify", async () => {
      // The "before" side of the lint comparison comes from the same call as the "after" side, over the same
      // files: a plan's findings may be filtered differently (only what the fix can address), and comparing two
      // different measurements would report findings as new that were there all along.
      const touched = [...new Set(candidates.flatMap((c) => c.files.map((f) => f.path)))];
      verifyBaseline = touched.length > 0 ? await findingsFor(new Map(), judged, touched) : [];
      return verifyAll(candidates);
    });

    // 5. Bundles: a fix with its follow-up, or two fixes on the same lines, verified once as one candidate.
    const bundled = await timed("bundles", async () => {
      const planned = await planBundles(candidates, outcomes, judged, {
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
          return verifyBaseline.filter((f) => inFiles.has(f.file) && f.recipeId !== undefined && ids.has(f.recipeId))
            .length;
        },
      });
      summary.skipped.push(...planned.skipped);
      if (planned.bundles.length === 0) return { candidates: [], predictions: [], outcomes: [] };
      const history =
        deps.db && repo && deps.loadHistory
          ? await deps.loadHistory(deps.db, {
              repositoryId: repo.id,
              recipeIds: [...new Set(planned.bundles.map((c) => c.recipe.id))],
              before: startedAt,
              // A retried cycle's earlier attempt and other runs on this commit are not history.
              cycleId: cycle?.id ?? null,
              sha: req.sha,
            })
          : new Map<string, RecipeHistory>();
      const bundlePredictions = applyProbation(
        planned.bundles,
        await decide({
          candidates: planned.bundles,
          facts,
          history,
          predictor: deps.predictor,
          computeFeatures: deps.computeFeatures,
          thresholds: req.thresholds,
        }),
        standing,
      );
      total += planned.bundles.length;
      return {
        candidates: planned.bundles,
        predictions: bundlePredictions,
        outcomes: await verifyAll(planned.bundles),
      };
    });

    summary.results = [
      ...candidates.map((candidate, i) => ({
        candidate,
        prediction: predictions[i] as CandidateResult["prediction"],
        outcome: outcomes[i] ?? null,
      })),
      ...bundled.candidates.map((candidate, i) => ({
        candidate,
        prediction: bundled.predictions[i] as CandidateResult["prediction"],
        outcome: bundled.outcomes[i] ?? null,
      })),
    ];
    summary.status = "completed";
  } catch (err) {
    summary.status = "failed";
    summary.error = describeError(err, req.root);
    // Bad input (ObserveError) is an answer, not a fault; anything else is rethrown after the failure is
    // recorded, so a queue can retry it.
    if (!(err instanceof ObserveError)) unexpected = err;
  } finally {
    await Promise.allSettled([
      (typeChecker as TypeCheckerSession | null)?.close(),
      (tests as TestSession | null)?.close(),
    ]);
    deps.tools.dispose?.(req.root);
  }

  // 6. Learn.
  durations.total = Math.round(performance.now() - t0);
  if (deps.db && repo && cycle) {
    progress({ phase: "learn", message: "storing the cycle" });
    const t = performance.now();
    const { stored } = await finishCycle(deps.db, {
      cycleId: cycle.id,
      repositoryId: repo.id,
      sha: req.sha,
      status: summary.status,
      error: summary.error,
      durationsMs: durations,
      facts: summary.facts,
      results: summary.results,
      storeData: req.collectData,
    });
    durations.learn = Math.round(performance.now() - t);
    summary.stored = stored;
  }
  if (unexpected) throw unexpected;
  return summary;
}

async function verifyOne(candidate: Candidate, ctx: Parameters<typeof verifyCandidate>[1]): Promise<Outcome> {
  try {
    return await verifyCandidate(candidate, ctx);
  } catch (err) {
    // The verification itself failed (a tool crashed): recorded as not a success, with the cause; the cycle goes on.
    return errorOutcome(candidate, `verification failed: ${err instanceof Error ? err.message : String(err)}`, ctx);
  }
}

function uniqueById(recipes: readonly Recipe[]): Recipe[] {
  return [...new Map(recipes.map((r) => [r.id, r] as const)).values()];
}

function describeError(err: unknown, root: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(root).join(".").slice(0, 2000);
}
