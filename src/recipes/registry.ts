import { biomeFamily } from "./biome/index.js";
import { eslintFamily } from "./eslint/index.js";
import { tsCodefixFamily } from "./ts-codefix/index.js";
import type { FamilyId, RecipeFamily } from "./types.js";

export const families: Readonly<Record<FamilyId, RecipeFamily>> = Object.freeze({
  "ts-codefix": tsCodefixFamily,
  eslint: eslintFamily,
  biome: biomeFamily,
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
