/**
 * One training row per run of a patch on a commit. Re-running a cycle on an unchanged commit verifies the same
 * patches again; each rerun would add a row with the same label (and features that only differ by the history
 * the earlier run wrote), so a repository that is re-run often would weigh more and count its own outcomes as
 * evidence. Twin recipes (two recipes whose fixes are the same edit, e.g. ESLint's and Biome's rule for the same
 * thing) share one verification in a cycle and are one observation too.
 *
 * The identity of a run is (repository, commit, patch): the patch hash when the row has one (exports since it was
 * added), which also merges twins; the earliest row of each is kept, as its features were computed before any of
 * its reruns' outcomes existed. Older rows have no patch hash: there the recipe, its scope and the change features
 * describe the patch, but two candidates of one cycle (one file each, with the same counts) can share that
 * description and are different patches. So a cycle (its rows share their creation time) keeps all of its rows,
 * and a later cycle on the same commit adds only the rows beyond those already kept for each description: a rerun
 * adds nothing. Twins cannot be told apart there. Rows without a commit are all kept.
 */
import { type DatasetRow, toTrainingSample } from "./dataset.js";
import { featureNames } from "./features.js";
import type { TrainingSample } from "./train/train.js";

let changeColumns: number[] | null = null;

/**
 * The identity of the run a row records: exact (`patch`) with a patch hash, a description (`change`) without one;
 * null when it cannot be told (no commit).
 */
export function runIdentity(row: DatasetRow): { kind: "patch" | "change"; key: string } | null {
  if (!row.sha) return null;
  if (row.patchHash) return { kind: "patch", key: JSON.stringify([row.repository, row.sha, row.patchHash]) };
  changeColumns ??= featureNames().flatMap((n, i) => (n.startsWith("change.") ? [i] : []));
  const change = changeColumns.map((i) => row.features[i] ?? null);
  return {
    kind: "change",
    key: JSON.stringify([row.repository, row.sha, row.recipeId ?? null, row.scope ?? null, change]),
  };
}

export interface Deduplicated<T> {
  rows: T[];
  /** Rows dropped because an earlier row records the same run. */
  duplicates: number;
}

/** The rows with every repeat of an earlier run left out, in their order; rows are ordered by `createdAt` first. */
export function withoutDuplicates<T extends DatasetRow>(rows: readonly T[]): Deduplicated<T> {
  const order = rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => (a.row.createdAt ?? "").localeCompare(b.row.createdAt ?? "") || a.i - b.i);
  const seen = new Set<string>();
  // Per description: rows kept so far, and rows seen in each cycle.
  const described = new Map<string, { kept: number; perCycle: Map<string, number> }>();
  const kept = new Set<number>();
  for (const { row, i } of order) {
    const id = runIdentity(row);
    if (id?.kind === "patch") {
      if (seen.has(id.key)) continue;
      seen.add(id.key);
    } else if (id?.kind === "change") {
      const d = described.get(id.key) ?? { kept: 0, perCycle: new Map<string, number>() };
      described.set(id.key, d);
      const cycle = row.createdAt ?? "";
      const n = (d.perCycle.get(cycle) ?? 0) + 1;
      d.perCycle.set(cycle, n);
      if (n <= d.kept) continue;
      d.kept++;
    }
    kept.add(i);
  }
  return { rows: rows.filter((_, i) => kept.has(i)), duplicates: rows.length - kept.size };
}

/** Training samples of dataset rows: one per run (see {@link withoutDuplicates}). */
export function trainingSamples(rows: readonly DatasetRow[]): { samples: TrainingSample[]; duplicates: number } {
  const { rows: kept, duplicates } = withoutDuplicates(rows);
  return { samples: kept.map(toTrainingSample), duplicates };
}
