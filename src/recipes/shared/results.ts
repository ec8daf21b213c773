import type { FileEdit, Finding, Recipe, SkippedFile } from "../types.js";
import { RecipeError } from "../types.js";

function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(compareFindings);
}

export function sortEdits(edits: FileEdit[]): FileEdit[] {
  return edits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function sortSkipped(skipped: SkippedFile[]): SkippedFile[] {
  return skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Id used in errors raised while computing findings for several recipes at once. */
export function recipesLabel(recipes: readonly Recipe[]): string {
  return recipes.map((r) => r.id).join(",") || "(no recipe)";
}

/** Wraps anything a tool throws into a {@link RecipeError} that names the recipe. */
export function asRecipeError(error: unknown, recipeId: string, what: string): RecipeError {
  if (error instanceof RecipeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new RecipeError(`${what}: ${detail}`, recipeId, { cause: error });
}
