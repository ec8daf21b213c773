import { biomeFamily } from "./biome/index.js";
import { eslintFamily } from "./eslint/index.js";
import { tsCodefixFamily } from "./ts-codefix/index.js";
import type { FamilyId, RecipeFamily } from "./types.js";

/**
 * Every finding a family reports names the recipe it belongs to, from `plan` as from `findings`, so the two can be
 * compared (verification measures findings before and after a patch).
 */
function tagged(family: RecipeFamily): RecipeFamily {
  return {
    ...family,
    async plan(ws, recipe) {
      const result = await family.plan(ws, recipe);
      return { ...result, findings: result.findings.map((f) => ({ ...f, recipeId: recipe.id })) };
    },
  };
}

export const families: Readonly<Record<FamilyId, RecipeFamily>> = Object.freeze({
  "ts-codefix": tagged(tsCodefixFamily),
  eslint: tagged(eslintFamily),
  biome: tagged(biomeFamily),
});

export function isFamilyId(value: string): value is FamilyId {
  return Object.hasOwn(families, value);
}

export function getFamily(id: FamilyId): RecipeFamily {
  return families[id];
}

/** Releases every family's caches for a workspace root (call when a cycle's checkout is removed). */
export function disposeWorkspace(root: string): void {
  for (const family of Object.values(families)) family.dispose?.(root);
}
