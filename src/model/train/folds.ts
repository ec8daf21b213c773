/**
 * Grouped k-fold: every repository's samples fall in exactly one test fold, so a model is always scored on
 * repositories it never saw (samples of one repository are alike; mixing them would overstate skill).
 */
import { seededRandom, shuffle } from "./random.js";

export interface Fold {
  index: number;
  train: number[];
  test: number[];
  /** Groups (repositories) whose samples form the test set. */
  testGroups: string[];
}

class FoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FoldError";
  }
}

/**
 * Assigns groups to k folds, largest groups first, each to the fold with the fewest samples so far, so folds are
 * of similar size. Groups of equal size are ordered by the seed.
 */
export function groupedKFold(groups: readonly string[], k: number, seed = 1): Fold[] {
  const counts = new Map<string, number>();
  for (const g of groups) counts.set(g, (counts.get(g) ?? 0) + 1);
  if (!Number.isInteger(k) || k < 2) throw new FoldError(`grouped k-fold needs k >= 2, got ${k}`);
  if (counts.size < k)
    throw new FoldError(`grouped k-fold with k = ${k} needs at least ${k} groups, got ${counts.size}`);
  const names = shuffle([...counts.keys()].sort(), seededRandom(seed));
  const order = names
    .map((name, i) => ({ name, i, count: counts.get(name) ?? 0 }))
    .sort((a, b) => b.count - a.count || a.i - b.i);
  const foldOf = new Map<string, number>();
  const sizes = new Array<number>(k).fill(0);
  const foldGroups: string[][] = Array.from({ length: k }, () => []);
  for (const g of order) {
    let best = 0;
    for (let f = 1; f < k; f++) if ((sizes[f] as number) < (sizes[best] as number)) best = f;
    foldOf.set(g.name, best);
    sizes[best] = (sizes[best] as number) + g.count;
    foldGroups[best]?.push(g.name);
  }
  const folds: Fold[] = Array.from({ length: k }, (_, index) => ({
    index,
    train: [],
    test: [],
    testGroups: (foldGroups[index] ?? []).sort(),
  }));
  groups.forEach((g, i) => {
    const f = foldOf.get(g) as number;
    for (const fold of folds) (fold.index === f ? fold.test : fold.train).push(i);
  });
  return folds;
}
