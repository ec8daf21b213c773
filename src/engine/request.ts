/** What a caller asks of a cycle, and the errors that end one early. */
import type { Recipe } from "../recipes/types.js";
import type { Thresholds } from "./decide.js";
import type { CycleRepository, StartedCycle } from "./ports.js";
import type { RepoConfig } from "./repo-config.js";
import type { CandidateScope, Trigger } from "./types.js";

export interface CycleRequest {
  root: string;
  repository: CycleRepository;
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
  /**
   * The cycle row its caller already started (an installed repository's job starts it before the checkout, so
   * that what fails on the way is recorded on it): the cycle runs on it and does not start another.
   */
  started?: StartedCycle;
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
  /** The cost budget: candidates verified at most (default DEFAULT_MAX_CANDIDATES of budget.ts); null: no cap. */
  maxCandidates?: number | null;
  runTests: boolean;
  /** Scopes whose candidates run the tests (default: all). Collection may test only "all" to go faster. */
  testScopes?: readonly CandidateScope[];
  /**
   * Test candidates that change different files together, splitting a group that does not pass (test-groups.ts).
   * Default true (never for Apply's re-verification); data collection sets false so that every label comes from a
   * candidate's own run.
   */
  groupTests?: boolean;
  /** A shell command that runs the tests, instead of the configured one or the one read from package.json. */
  testCommand?: string;
  /** Data-collection consent as known when the job started; re-checked before anything is stored. */
  collectData: boolean;
  signal?: AbortSignal;
}

/** Whether a candidate of this scope has its tests run in this cycle (`testScopes`; all when absent). */
export function testsInScope(req: Pick<CycleRequest, "testScopes">, candidate: { scope: CandidateScope }): boolean {
  return !req.testScopes || req.testScopes.includes(candidate.scope);
}

export class RepositoryGoneError extends Error {
  constructor(readonly repositoryId: number) {
    super(`repository ${repositoryId} no longer exists (removed while its job was on the way)`);
    this.name = "RepositoryGoneError";
  }
}

export class CycleAbortedError extends Error {
  constructor(readonly phase: string) {
    super(`cycle aborted during ${phase}`);
    this.name = "CycleAbortedError";
  }
}

/**
 * A signal that aborts after `ms` (its reason names the limit) or when `outer` does (with its reason), and the
 * `dispose` to call once the work is over. Not `AbortSignal.any([AbortSignal.timeout(ms), outer])`: Node holds the
 * sources of `any` weakly, and a timeout signal nothing else holds is collected with its timer, so after the first
 * garbage collection it never fires (a collection cycle then ran past its time limit without end).
 */
export function deadline(ms: number, outer?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`time limit of ${Math.round(ms / 1000)} s reached`)), ms);
  const onOuter = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener("abort", onOuter, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}
