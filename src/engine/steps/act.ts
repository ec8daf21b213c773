/**
 * Step 2, Act, as a dry run: each recipe in good standing here applies its fix to an in-memory view of the
 * repository and gives a patch, cut to the risk budget and kept off protected paths. Nothing is written to the
 * repository; a patch is applied for real only in isolated copies (Verify) and by the caller (a pull request).
 * A recipe's findings come with its plan, all of a family's in one run of its tool.
 */
import { prepareRecipes } from "../../recipes/index.js";
import type { Finding } from "../../recipes/types.js";
import { buildCandidates } from "../candidates.js";
import { standings } from "../probation.js";
import type { Candidate, RecipeStanding } from "../types.js";
import type { RepositoryView } from "./observe.js";
import type { CycleRun } from "./run.js";

export interface Planned {
  candidates: Candidate[];
  /** The planned recipes' findings at baseline. */
  findings: Finding[];
  /** Recipes not in good standing (muted recipes were not planned). */
  standing: Map<string, RecipeStanding>;
}

export async function act(run: CycleRun, observed: RepositoryView): Promise<Planned> {
  const { req, deps, summary } = run;
  const ids = req.recipes.map((r) => r.id);
  const records =
    run.cycle && deps.store?.records
      ? await deps.store.records({ repositoryId: run.cycle.repositoryId, recipeIds: ids, before: run.startedAt })
      : new Map();
  const standing = standings(ids, records);
  if (standing.size > 0) summary.standings = [...standing.values()];
  const recipes = req.recipes.filter((r) => standing.get(r.id)?.status !== "muted");
  run.progress({ phase: "candidates", message: `planning ${recipes.length} recipes` });
  const planned = await run.timed("candidates", async () => {
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
  return {
    candidates: planned.candidates,
    findings: planned.planned.flatMap((p) => p.findings.map((f) => ({ ...f, recipeId: p.recipe.id }))),
    standing,
  };
}
