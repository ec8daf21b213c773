/**
 * "Apply" buttons. GitHub gives an action identifier of at most 20 characters back in
 * `check_run.requested_action`, so the identifier names the recipe by a hash of its id: nothing needs to be
 * stored to know what a button meant, and the apply job plans the recipe again on the branch's current head.
 */
import { createHash } from "node:crypto";
import { RECIPES } from "../recipes/index.js";
import type { Recipe } from "../recipes/types.js";

const PREFIX = "apply-";

/** `apply-` and 14 hex characters of the recipe id's hash: 20 characters, GitHub's limit. */
export function applyActionId(recipeId: string): string {
  return (
    PREFIX +
    createHash("sha256")
      .update(recipeId)
      .digest("hex")
      .slice(0, 20 - PREFIX.length)
  );
}

export function recipeForAction(identifier: string, recipes: readonly Recipe[] = RECIPES): Recipe | undefined {
  if (!identifier.startsWith(PREFIX)) return undefined;
  return recipes.find((r) => applyActionId(r.id) === identifier);
}
