import { getFamily } from "./registry.js";
import { sortFindings } from "./shared/results.js";
import {
  type FamilyId,
  type Finding,
  type Recipe,
  type RecipeFamily,
  type RecipePlan,
  type RecipeWorkspace,
  type SkippedFile,
  startOrder,
} from "./types.js";

export {
  findRecipe,
  RECIPES,
  selectRecipes,
  unknownSelectors,
} from "./catalog.js";
export { disposeWorkspace, getFamily } from "./registry.js";
export * from "./types.js";

/** Dry run of one recipe over a workspace, through its family. */
export async function planRecipe(
  ws: RecipeWorkspace,
  recipe: Recipe,
): Promise<RecipePlan & { skipped: SkippedFile[] }> {
  const result = await getFamily(recipe.family).plan(ws, recipe);
  return { ...result, skipped: result.skipped ?? [] };
}

/**
 * Findings of recipes from any families over some files: one call per family, so each family batches its work
 * (one language-service pass, one lint per file, one Biome run).
 */
export async function collectFindings(
  ws: RecipeWorkspace,
  recipes: readonly Recipe[],
  files: readonly string[],
): Promise<Finding[]> {
  const byFamily = new Map<FamilyId, Recipe[]>();
  for (const recipe of recipes) byFamily.set(recipe.family, [...(byFamily.get(recipe.family) ?? []), recipe]);
  const families = startOrder([...byFamily].map(([family, list]) => [getFamily(family), list] as const));
  const results = await Promise.all(families.map(([family, list]) => family.findings(ws, list, files)));
  return sortFindings(results.flat());
}

/**
 * Tells each family which of its recipes are about to be planned, so that it runs its tool once for all of them
 * (see {@link RecipeFamily.prepare}). The `plan` calls that follow are answered from what it prepared.
 */
export async function prepareRecipes(
  ws: RecipeWorkspace,
  recipes: readonly Recipe[],
  familyOf: (recipe: Recipe) => RecipeFamily = (recipe) => getFamily(recipe.family),
): Promise<void> {
  const byFamily = new Map<RecipeFamily, Recipe[]>();
  for (const recipe of recipes) {
    const family = familyOf(recipe);
    byFamily.set(family, [...(byFamily.get(family) ?? []), recipe]);
  }
  // All at once: a family whose tool runs in its own process (Biome) works while the others compute in this one.
  // A family that fails keeps nothing: each of its recipes' plans then runs the tool on its own and records its
  // own error.
  const started = startOrder([...byFamily]).map(([family, list]) => family.prepare?.(ws, list));
  await Promise.allSettled(started);
}
