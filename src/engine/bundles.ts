/**
 * Bundled candidates: a fix with the next step of the same clean-up (no-var, then prefer-const on the lets it
 * wrote), or two fixes that touch the same lines (which a maintainer cannot take one after the other without a
 * conflict). A bundle is one candidate, verified once: the first fix's patch, then each later recipe planned again
 * over the patched contents and kept only on the lines the earlier fixes wrote.
 */
import type { FileEdit, Recipe } from "../recipes/types.js";
import { makeCandidate } from "./candidates.js";
import { applyHunks, countChanges, hunks, hunkTouches, lineMapping } from "./diff.js";
import type { RepoConfig } from "./repo-config.js";
import type { Candidate, FilePatch, Outcome } from "./types.js";

/** Overlap bundles offered per cycle at most: each costs a verification, and pairs grow with the square. */
export const MAX_OVERLAP_BUNDLES = 5;

export interface BundleContext {
  /** A recipe's edits over the given files, with some contents replaced (a dry run, as in planning). */
  plan(recipe: Recipe, overrides: ReadonlyMap<string, string>, files: readonly string[]): Promise<FileEdit[]>;
  budget: RepoConfig["budget"];
  /** Findings of the given recipes in the given files before any change (a candidate's target findings). */
  targets(recipes: readonly Recipe[], files: readonly string[]): number;
}

export type BundleResult = { candidate: Candidate } | { skipped: string };

/** Ids joined with "+": the key of a bundle names every recipe in it. */
function bundleRecipe(parts: readonly Recipe[]): Recipe {
  const [first] = parts;
  if (!first) throw new Error("a bundle needs at least one recipe");
  return {
    id: parts.map((r) => r.id).join("+"),
    family: first.family,
    title: parts.map((r) => r.title).join("; then "),
    category: first.category,
    safety: parts.some((r) => r.safety === "unsafe") ? "unsafe" : "safe",
    params: {},
  };
}

/** The fix with its follow-ups applied on the lines it wrote. */
function followUpBundle(candidate: Candidate, followUps: readonly Recipe[], ctx: BundleContext) {
  const lines = new Map(candidate.files.map((f) => [f.path, writtenLines(f.before, f.after)] as const));
  return extend(candidate, followUps, lines, ctx);
}

/**
 * `a`'s patch, then `b`'s recipe on the lines either of them changed (`b`'s lines carried through `a`'s patch).
 * Files only `b` changes are planned from their original contents.
 */
function overlapBundle(a: Candidate, b: Candidate, ctx: BundleContext) {
  const lines = new Map<string, Set<number>>();
  for (const f of a.files) lines.set(f.path, writtenLines(f.before, f.after));
  for (const f of b.files) {
    const own = a.files.find((x) => x.path === f.path);
    const map = own ? lineMapping(own.before, own.after) : (l: number) => ({ from: l, to: l });
    const set = lines.get(f.path) ?? new Set<number>();
    for (const h of hunks(f.before, f.after)) {
      for (let l = h.oldStart; l <= Math.max(h.oldStart, h.oldEnd); l++) {
        const r = map(l);
        for (let n = r.from; n <= r.to; n++) set.add(n);
      }
    }
    lines.set(f.path, set);
  }
  const originals = new Map(b.files.map((f) => [f.path, f.before] as const));
  return extend(a, [b.recipe], lines, ctx, originals);
}

/**
 * Pairs of candidates (in order) from different recipes, of the same scope and file, whose patches change at
 * least one same line of a file. Bundles, identical patches and pairs already bundled by follow-up are left out.
 */
export function overlappingPairs(
  candidates: readonly Candidate[],
  max = MAX_OVERLAP_BUNDLES,
): [Candidate, Candidate][] {
  const out: [Candidate, Candidate][] = [];
  const singles = candidates.filter((c) => !c.parts);
  for (let i = 0; i < singles.length && out.length < max; i++) {
    for (let j = i + 1; j < singles.length && out.length < max; j++) {
      const a = singles[i] as Candidate;
      const b = singles[j] as Candidate;
      if (a.recipe.id === b.recipe.id || a.patchHash === b.patchHash || a.scope !== b.scope) continue;
      if (a.scope === "file" && a.files[0]?.path !== b.files[0]?.path) continue;
      if (a.recipe.followUps?.includes(b.recipe.id) || b.recipe.followUps?.includes(a.recipe.id)) continue;
      if (touchSameLines(a.files, b.files)) out.push([a, b]);
    }
  }
  return out;
}

function touchSameLines(a: readonly FilePatch[], b: readonly FilePatch[]): boolean {
  for (const fa of a) {
    const fb = b.find((f) => f.path === fa.path);
    if (!fb) continue;
    const changed = new Set<number>();
    for (const h of hunks(fa.before, fa.after)) for (let l = h.oldStart; l <= h.oldEnd; l++) changed.add(l);
    if (hunks(fb.before, fb.after).some((h) => hunkTouches(h, changed))) return true;
  }
  return false;
}

/** Lines of the new file an edit wrote; for a pure deletion, the line that now follows it. */
function writtenLines(before: string, after: string): Set<number> {
  const set = new Set<number>();
  for (const h of hunks(before, after)) {
    if (h.newEnd < h.newStart) set.add(h.newStart);
    for (let l = h.newStart; l <= h.newEnd; l++) set.add(l);
  }
  return set;
}

async function extend(
  first: Candidate,
  next: readonly Recipe[],
  lines: Map<string, Set<number>>,
  ctx: BundleContext,
  extraOriginals: ReadonlyMap<string, string> = new Map(),
): Promise<BundleResult> {
  const originals = new Map(extraOriginals);
  for (const f of first.files) originals.set(f.path, f.before);
  const current = new Map(originals);
  for (const f of first.files) current.set(f.path, f.after);
  const files = [...current.keys()].sort();
  const applied: Recipe[] = [];
  for (const recipe of next) {
    let changed = false;
    for (const edit of await ctx.plan(recipe, current, files)) {
      const base = current.get(edit.path);
      const allowed = lines.get(edit.path);
      if (base === undefined || edit.before !== base || !allowed) continue;
      const kept = applyHunks(base, edit.after, (h) => hunkTouches(h, allowed));
      if (kept === base) continue;
      // Later recipes work on this recipe's output: carry the allowed lines through its edit.
      const map = lineMapping(base, kept);
      const moved = new Set<number>();
      for (const l of allowed) {
        const r = map(l);
        for (let n = r.from; n <= r.to; n++) moved.add(n);
      }
      lines.set(edit.path, moved);
      current.set(edit.path, kept);
      changed = true;
    }
    if (changed) applied.push(recipe);
  }
  if (applied.length === 0) return { skipped: `${next.map((r) => r.id).join(", ")} changed nothing on these lines` };
  const patches: FilePatch[] = [];
  for (const path of files) {
    const before = originals.get(path) as string;
    const after = current.get(path) as string;
    if (before === after) continue;
    const counts = countChanges(before, after);
    if (Math.max(counts.linesAdded, counts.linesRemoved) > ctx.budget.maxLinesPerFile) {
      return { skipped: `${path} would change more than ${ctx.budget.maxLinesPerFile} lines` };
    }
    patches.push({ path, before, after, ...counts });
  }
  if (patches.length > ctx.budget.maxFiles) return { skipped: `over the budget of ${ctx.budget.maxFiles} files` };
  const parts = [...(first.parts ?? [first.recipe]), ...applied];
  const made = makeCandidate(
    bundleRecipe(parts),
    first.scope,
    patches,
    ctx.targets(
      parts,
      patches.map((p) => p.path),
    ),
  );
  if (made.patchHash === first.patchHash) return { skipped: "the bundle is the first fix's own patch" };
  return { candidate: { ...made, parts } };
}

export interface PlannedBundles {
  bundles: Candidate[];
  /** Why a bundle was not offered, for the summary's skipped list. */
  skipped: { file: string; reason: string }[];
}

/**
 * The cycle's bundles: one per verified fix whose only new findings were its follow-ups' (its outcome then names
 * the bundle), and up to {@link MAX_OVERLAP_BUNDLES} for pairs of successful candidates touching the same lines. A
 * fix whose patch another candidate shares is bundled once.
 */
export async function planBundles(
  candidates: readonly Candidate[],
  outcomes: readonly (Outcome | null)[],
  judged: readonly Recipe[],
  ctx: BundleContext,
): Promise<PlannedBundles> {
  const bundles: Candidate[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const byPatch = new Map<string, BundleResult>();
  const attempt = async (label: string, f: () => Promise<BundleResult>): Promise<BundleResult> => {
    try {
      return await f();
    } catch (err) {
      return { skipped: `${label}: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
  for (const [i, candidate] of candidates.entries()) {
    const outcome = outcomes[i];
    if (!outcome?.followUp || !outcome.success) continue;
    let result = byPatch.get(candidate.patchHash);
    if (!result) {
      const wanted = new Set(outcome.followUp.recipes);
      const followUps = (candidate.recipe.followUps ?? [])
        .filter((id) => wanted.has(id))
        .map((id) => judged.find((r) => r.id === id))
        .filter((r): r is Recipe => r !== undefined);
      result = await attempt(candidate.key, () => followUpBundle(candidate, followUps, ctx));
      byPatch.set(candidate.patchHash, result);
      if ("candidate" in result) bundles.push(result.candidate);
      else skipped.push({ file: "(bundle)", reason: `${candidate.key} with its follow-up: ${result.skipped}` });
    }
    const names = outcome.followUp.recipes.join(", ");
    outcome.followUp.bundle = "candidate" in result ? result.candidate.key : null;
    outcome.note =
      "candidate" in result
        ? `new findings are the follow-up ${names}; see the bundled candidate ${result.candidate.key}`
        : `new findings are the follow-up ${names}; no bundled candidate (${result.skipped})`;
  }
  // Two fixes on the same lines are bundled only when each passed on its own: where one fails, the maintainer takes
  // the other alone, with nothing to conflict with (and a bundle would cost a verification for nothing).
  for (const [a, b] of overlappingPairs(candidates.filter((_, i) => outcomes[i]?.success === true))) {
    const result = await attempt(`${a.key} with ${b.key}`, () => overlapBundle(a, b, ctx));
    if ("candidate" in result) bundles.push(result.candidate);
    else skipped.push({ file: "(bundle)", reason: `${a.key} with ${b.key}: ${result.skipped}` });
  }
  return { bundles, skipped };
}
