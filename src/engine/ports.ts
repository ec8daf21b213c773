/**
 * The engine's ports: what a cycle needs from the world, declared here and implemented outside the engine (the
 * Postgres store and the sandboxed tools in src/runtime/, or a test's own). The engine imports nothing of the
 * database, GitHub, the queue, the sandbox or the workspace; its callers (the worker's processor, `odavl cycle`
 * and `odavl demo`, collection) build these and pass them in.
 */
import type { FeatureInput, Predictor, RecipeHistory } from "../model/types.js";
import type { Recipe, RecipeFamily } from "../recipes/types.js";
import type { RecipeRecords, RecipeRecordsQuery } from "./probation.js";
import type { CandidateResult, CycleStatus, Diagnostic, RepoFacts, Trigger, TypeCheckCompiler } from "./types.js";
import type { CandidateTestRunner, TestRun } from "./verify.js";

/** The repository a cycle runs for, as the store registers it. */
export interface CycleRepository {
  owner: string;
  name: string;
  mode: "installed" | "shadow";
  githubId?: number | null;
  installationId?: number | null;
  source?: string | null;
  defaultBranch?: string;
}

/** The cycle row to start, or to take over when a retried job passes the same run key. */
export interface CycleStart {
  repository: CycleRepository;
  /** The stored repository, when the caller has one: it is only looked up, never registered again. */
  repositoryId?: number;
  runKey: string;
  sha: string | null;
  trigger: Trigger;
}

/** A started cycle row. */
export interface StartedCycle {
  cycleId: string;
  repositoryId: number;
}

/** What Learn stores: the cycle's end, and (with consent) its predictions and outcomes. */
export interface CycleRecord {
  cycleId: string;
  repositoryId: number;
  sha: string | null;
  status: CycleStatus;
  error: string | null;
  durationsMs: Record<string, number>;
  facts: RepoFacts | null;
  results: readonly CandidateResult[];
  /** Data-collection consent as known when the job started; the store re-checks it before storing. */
  storeData: boolean;
}

/** The recipes' track record before a prediction (see src/model/history.ts). */
interface HistoryQuery {
  repositoryId: number;
  recipeIds: readonly string[];
  before: Date;
  /** The cycle asking: its own outcomes (from an earlier attempt) never count. */
  cycleId?: string | null;
  /** The commit being scored: outcomes recorded for the same commit never count. */
  sha?: string | null;
}

/** Where cycles, predictions and outcomes are kept, and history is read from. */
export interface CycleStore {
  /** Starts the cycle row (registering the repository unless `repositoryId` is given); null: the repository is gone. */
  start(run: CycleStart): Promise<StartedCycle | null>;
  /** Each recipe's history (an all-zero entry for a recipe never run). */
  history(q: HistoryQuery): Promise<Map<string, RecipeHistory>>;
  /** The recipes' verified outcomes and the operator's overrides, for probation (absent: all in good standing). */
  records?(q: RecipeRecordsQuery): Promise<RecipeRecords>;
  /** Learn: the cycle's final status, and its predictions and outcomes where consent allows. */
  finish(record: CycleRecord): Promise<{ stored: boolean }>;
}

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
  /**
   * The full suite on the unchanged repository; it also records which lines the tests run. `onLaunch` is called
   * once its first process has started; `onRetry` when a first run did not pass and the suite runs once more
   * another way (without coverage, node_modules writable).
   */
  baseline(options?: { onLaunch?: () => void; onRetry?: () => void }): Promise<TestRun>;
  close(): Promise<void>;
}

/** How to run the tests when the repository or the operator says (`.github/odavl.yml` tests, a collection list). */
interface TestOptions {
  /** A shell line that runs the tests, instead of the one read from package.json. */
  command?: string;
  /** A shell line run before the tests in each copy. */
  setup?: string;
  /** Wall-time limit of one run. */
  timeoutMs?: number;
  /** Every candidate runs the whole suite: no related-tests run, no skipped run (Apply re-verifies so). */
  fullSuite?: boolean;
  /** The cycle's: once it aborts, runs under way are stopped (cause `aborted`) and no new one starts. */
  signal?: AbortSignal;
}

/** What the cycle needs from the machine: listing files, type checking, linting (the families), running tests. */
export interface CycleTools {
  listFiles(root: string): Promise<{ files: string[]; skipped: { file: string; reason: string }[] }>;
  startTypeChecker(root: string, tsconfigPath: string | null): Promise<TypeCheckerSession>;
  /** null with a reason when the repository's tests cannot or must not run. */
  startTests(root: string, options?: TestOptions): Promise<TestSession | { unavailable: string }>;
  family(recipe: Recipe): RecipeFamily;
  /** Releases what the tools cached for a checkout (language services, linters). */
  dispose?(root: string): void;
}

type Clock = () => Date;

export type ProgressEvent =
  | { phase: "observe" | "candidates" | "decide" | "learn"; message: string }
  | { phase: "verify"; done: number; total: number; candidate: string };

export interface CycleDeps {
  /** null: store nothing and read no history (--no-store). */
  store: CycleStore | null;
  predictor: Predictor;
  computeFeatures: (input: FeatureInput) => number[];
  tools: CycleTools;
  clock?: Clock;
  onProgress?: (event: ProgressEvent) => void;
}
