/** Real collaborators for engine tests: the real sandbox, type checker, recipes and predictor. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "../../src/db/client.js";
import { type CycleDeps, type CycleRequest, runCycle } from "../../src/engine/cycle.js";
import { DEFAULT_REPO_CONFIG } from "../../src/engine/repo-config.js";
import { computeFeatures } from "../../src/model/features.js";
import { loadRecipeHistory } from "../../src/model/history.js";
import { createHeuristicPredictor } from "../../src/model/predictor.js";
import { DEFAULT_THRESHOLDS } from "../../src/model/tiers.js";
import type { Predictor } from "../../src/model/types.js";
import { selectRecipes } from "../../src/recipes/index.js";
import { createCycleTools } from "../../src/runtime/tools.js";
import { createSandbox } from "../../src/sandbox/index.js";

export function tempDir(prefix = "odavl-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function engineDeps(db: Db | null, predictor: Predictor = createHeuristicPredictor("disabled")): CycleDeps {
  const sandbox = createSandbox({ allowUnsandboxed: false, defaults: { timeoutMs: 120_000 } });
  return {
    db,
    predictor,
    tools: createCycleTools({ sandbox, sandboxProblem: null }),
    computeFeatures,
    loadHistory: loadRecipeHistory,
  };
}

export function cycleRequest(
  root: string,
  overrides: Partial<CycleRequest> & { recipeIds?: string[] } = {},
): CycleRequest {
  const { recipeIds, ...rest } = overrides;
  return {
    root,
    repository: { owner: "test", name: "repo", mode: "shadow" },
    sha: null,
    trigger: "cli",
    recipes: selectRecipes(recipeIds ? { enabled: recipeIds } : {}),
    config: DEFAULT_REPO_CONFIG,
    thresholds: DEFAULT_THRESHOLDS,
    scopes: ["all"],
    runTests: true,
    collectData: true,
    ...rest,
  };
}

export { runCycle };
