import type { Recipe, RecipePlan, RecipeWorkspace, SkippedFile } from "../types.js";
import { RecipeError } from "../types.js";

export type PlanResult = RecipePlan & { skipped?: SkippedFile[] };
export type PlanOutcome = { ok: true; plan: PlanResult } | { ok: false; error: RecipeError };

interface Entry {
  files: readonly string[];
  contents: Map<string, string>;
  outcomes: Map<string, PlanOutcome>;
}

/**
 * Plans a family computed for several recipes in one run of its tool, kept for the workspace they were computed
 * on. A plan is served only while that workspace still reads the same files with the same contents, so a stale
 * plan is never handed out (the workspace object may be reused after a file changed on disk).
 */
export class PreparedPlans {
  private readonly byWorkspace = new WeakMap<RecipeWorkspace, Entry>();

  store(ws: RecipeWorkspace, outcomes: Map<string, PlanOutcome>): void {
    const contents = new Map(ws.files.map((f) => [f, ws.read(f)] as const));
    this.byWorkspace.set(ws, { files: [...ws.files], contents, outcomes });
  }

  /** The prepared plan of a recipe, or undefined when none is prepared or the workspace has changed since. */
  take(ws: RecipeWorkspace, recipe: Recipe): PlanResult | undefined {
    const entry = this.byWorkspace.get(ws);
    const outcome = entry?.outcomes.get(recipe.id);
    if (entry === undefined || outcome === undefined || !unchanged(ws, entry)) return undefined;
    if (!outcome.ok) throw outcome.error;
    return outcome.plan;
  }
}

function unchanged(ws: RecipeWorkspace, entry: Entry): boolean {
  if (ws.files.length !== entry.files.length) return false;
  for (let i = 0; i < ws.files.length; i++) {
    const file = ws.files[i] as string;
    if (file !== entry.files[i] || ws.read(file) !== entry.contents.get(file)) return false;
  }
  return true;
}

/** The plan of one recipe out of a batch, or its error. */
export function outcomeOf(outcomes: Map<string, PlanOutcome>, recipe: Recipe): PlanResult {
  const outcome = outcomes.get(recipe.id);
  if (outcome === undefined) throw new RecipeError("no plan was computed", recipe.id);
  if (!outcome.ok) throw outcome.error;
  return outcome.plan;
}
