import { getFamily } from "./registry.js";
import { sortFindings } from "./shared/results.js";
import type { Finding, Recipe, RecipeFamily, RecipePlan, RecipeWorkspace, SkippedFile } from "./types.js";

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
  familyOf: FamilyOf = registered,
): Promise<Finding[]> {
  const results = await Promise.all(
    byFamily(recipes, familyOf).map(([family, list]) => family.findings(ws, list, files)),
  );
  return sortFindings(results.flat());
}

type FamilyOf = (recipe: Recipe) => RecipeFamily;
const registered: FamilyOf = (recipe) => getFamily(recipe.family);

/**
 * The recipes by family, in the order to start the families' work: those whose tool runs in a process of its own
 * first, so that it works while the others compute in this one (a family that computes here holds this process
 * until it is done).
 */
function byFamily(recipes: readonly Recipe[], familyOf: FamilyOf): [RecipeFamily, Recipe[]][] {
  const grouped = new Map<RecipeFamily, Recipe[]>();
  for (const recipe of recipes) {
    const family = familyOf(recipe);
    grouped.set(family, [...(grouped.get(family) ?? []), recipe]);
  }
  return [...grouped].sort(([a], [b]) => Number(b.ownProcess === true) - Number(a.ownProcess === true));
}

/**
 * Tells each family which of its recipes are about to be planned, so that it runs its tool once for all of them
 * (see {@link RecipeFamily.prepare}). The `plan` calls that follow are answered from what it prepared.
 */
export async function prepareRecipes(
  ws: RecipeWorkspace,
  recipes: readonly Recipe[],
  familyOf: FamilyOf = registered,
): Promise<void> {
  // All at once: a family whose tool runs in its own process (Biome) works while the others compute in this one.
  // A family that fails keeps nothing: each of its recipes' plans then runs the tool on its own and records its
  // own error.
  const started = byFamily(recipes, familyOf).map(([family, list]) => family.prepare?.(ws, list));
  await Promise.allSettled(started);
}
