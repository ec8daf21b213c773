/**
 * Candidates: each applicable recipe's dry-run patch, cut to the risk budget and kept off protected paths.
 * A candidate is a recipe applied to a scope: "all" (every file it changes within the budget) or "file" (one file:
 * a change a reviewer judges at a glance, and a finer sample for data collection).
 */
import { createHash } from "node:crypto";
import type { Finding, Recipe, RecipeFamily, RecipeWorkspace } from "../recipes/types.js";
import { countChanges } from "./diff.js";
import { matchesAny } from "./glob.js";
import type { RepoConfig } from "./repo-config.js";
import { DEFAULT_PROTECTED_PATHS } from "./repo-config.js";
import type { Candidate, CandidateScope, FilePatch } from "./types.js";

export interface CandidateOptions {
  budget: RepoConfig["budget"];
  protectedPaths: readonly string[];
  scopes: readonly CandidateScope[];
  /** At most this many file-scope candidates per recipe (data collection wants more; maintainers fewer). */
  maxFileCandidatesPerRecipe: number;
}

export interface PlannedRecipe {
  recipe: Recipe;
  findings: Finding[];
  patches: FilePatch[];
  /** Why files were left out: protected, over the line budget, over the file budget. */
  excluded: { file: string; reason: string }[];
}

export interface CandidatesResult {
  candidates: Candidate[];
  planned: PlannedRecipe[];
  skipped: { file: string; reason: string }[];
  errors: { recipe: string; error: string }[];
}

export async function buildCandidates(
  ws: RecipeWorkspace,
  recipes: readonly Recipe[],
  families: (recipe: Recipe) => RecipeFamily,
  options: CandidateOptions,
): Promise<CandidatesResult> {
  const protectedGlobs = [...DEFAULT_PROTECTED_PATHS, ...options.protectedPaths];
  const candidates: Candidate[] = [];
  const planned: PlannedRecipe[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const errors: { recipe: string; error: string }[] = [];
  for (const recipe of recipes) {
    let plan: Awaited<ReturnType<RecipeFamily["plan"]>>;
    try {
      plan = await families(recipe).plan(ws, recipe);
    } catch (err) {
      // One recipe's tool failing is recorded and the cycle goes on with the others.
      errors.push({ recipe: recipe.id, error: err instanceof Error ? err.message : String(err) });
      continue;
    }
    for (const s of plan.skipped ?? []) skipped.push({ file: s.file, reason: `${recipe.id}: ${s.reason}` });
    const excluded: { file: string; reason: string }[] = [];
    const patches: FilePatch[] = [];
    for (const edit of plan.edits) {
      if (edit.before === edit.after) continue;
      if (matchesAny(edit.path, protectedGlobs)) {
        excluded.push({ file: edit.path, reason: "protected path" });
        continue;
      }
      const counts = countChanges(edit.before, edit.after);
      if (Math.max(counts.linesAdded, counts.linesRemoved) > options.budget.maxLinesPerFile) {
        excluded.push({ file: edit.path, reason: `changes more than ${options.budget.maxLinesPerFile} lines` });
        continue;
      }
      patches.push({ ...edit, ...counts });
    }
    patches.sort((a, b) => a.path.localeCompare(b.path));
    planned.push({ recipe, findings: plan.findings, patches, excluded });
    if (patches.length === 0) continue;

    const findingsIn = (files: readonly FilePatch[]) => {
      const set = new Set(files.map((f) => f.path));
      return plan.findings.filter((f) => set.has(f.file)).length;
    };
    if (options.scopes.includes("all")) {
      const inBudget = patches.slice(0, options.budget.maxFiles);
      for (const p of patches.slice(options.budget.maxFiles)) {
        excluded.push({ file: p.path, reason: `over the budget of ${options.budget.maxFiles} files` });
      }
      candidates.push(makeCandidate(recipe, "all", inBudget, findingsIn(inBudget)));
    }
    if (options.scopes.includes("file") && (patches.length > 1 || !options.scopes.includes("all"))) {
      for (const p of patches.slice(0, options.maxFileCandidatesPerRecipe)) {
        candidates.push(makeCandidate(recipe, "file", [p], findingsIn([p])));
      }
    }
  }
  return { candidates, planned, skipped, errors };
}

export function makeCandidate(
  recipe: Recipe,
  scope: CandidateScope,
  files: FilePatch[],
  targetFindings: number,
): Candidate {
  const linesAdded = files.reduce((s, f) => s + f.linesAdded, 0);
  const linesRemoved = files.reduce((s, f) => s + f.linesRemoved, 0);
  const key = scope === "all" ? `${recipe.id}@all` : `${recipe.id}@${files[0]?.path ?? ""}`;
  return { key, recipe, scope, files, linesAdded, linesRemoved, targetFindings, patchHash: patchHash(files) };
}

/** Identical edits give identical hashes, whichever tool produced them (useConst and prefer-const, say). */
export function patchHash(files: readonly { path: string; after: string; before: string }[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    h.update(f.path).update("\0").update(sha(f.before)).update("\0").update(sha(f.after)).update("\0");
  }
  return h.digest("hex").slice(0, 32);
}

function sha(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
