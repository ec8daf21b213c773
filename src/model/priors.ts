/**
 * Recipe priors: how often each recipe kept a repository green, learned on other repositories. The trained model
 * ships the counts of everything it was trained on, so that a fresh installation starts each recipe at what other
 * repositories taught rather than at one rate for all. In training, a row's prior is computed only from other
 * repositories' rows (leave one repository out), as it will be for a repository the model never saw; in
 * cross-validation, only from the fold's training repositories.
 *
 * The rate is shrunk towards the global rate with a Beta prior worth {@link PRIOR_WEIGHT} runs: a recipe run a
 * few times says little, one run hundreds of times says what it says.
 */
import { z } from "zod";

/** Weight, in runs, of the global rate in a recipe's smoothed rate. */
export const PRIOR_WEIGHT = 5;
/** The global rate when no outcome is known at all: the crowd prior's mean (see features.ts, CROWD_PRIOR). */
export const FALLBACK_RATE = 0.92;

const countsSchema = z
  .object({ successes: z.number().int().nonnegative(), runs: z.number().int().nonnegative() })
  .refine((c) => c.successes <= c.runs, { message: "successes exceed runs" });

export const recipePriorsSchema = z.object({
  /** All outcomes the priors were learned from. */
  global: countsSchema,
  /** Per recipe id. */
  recipes: z.record(z.string(), countsSchema),
});

export type RecipeCounts = z.infer<typeof countsSchema>;
export type RecipePriors = z.infer<typeof recipePriorsSchema>;

/** The prior of a recipe as the features see it: its smoothed success rate and how many runs back it. */
export interface RecipePrior {
  successRate: number;
  runs: number;
}

const rateOf = (c: RecipeCounts): number => (c.runs > 0 ? c.successes / c.runs : FALLBACK_RATE);

/** Smoothed rate of `counts`, shrunk towards the rate of `global`. */
function smoothedPrior(counts: RecipeCounts | undefined, global: RecipeCounts): RecipePrior {
  const g = rateOf(global);
  const s = counts?.successes ?? 0;
  const n = counts?.runs ?? 0;
  return { successRate: (s + PRIOR_WEIGHT * g) / (n + PRIOR_WEIGHT), runs: n };
}

/**
 * The prior of `recipeId` from shipped priors; a recipe they do not know starts at their global rate, and without
 * priors (no model) at {@link FALLBACK_RATE}.
 */
export function priorOf(priors: RecipePriors | null | undefined, recipeId: string | undefined): RecipePrior {
  if (!priors) return { successRate: FALLBACK_RATE, runs: 0 };
  return smoothedPrior(recipeId === undefined ? undefined : priors.recipes[recipeId], priors.global);
}

export interface PriorSample {
  repository: string;
  recipeId?: string | undefined;
  label: 0 | 1;
}

/** The counts of these samples: what a model trained on them ships. Recipes in sorted order (stable bytes). */
export function recipePriorsOf(samples: readonly PriorSample[]): RecipePriors {
  const recipes = new Map<string, RecipeCounts>();
  const global = { successes: 0, runs: 0 };
  for (const s of samples) {
    global.runs++;
    global.successes += s.label;
    if (s.recipeId === undefined) continue;
    const c = recipes.get(s.recipeId) ?? { successes: 0, runs: 0 };
    c.runs++;
    c.successes += s.label;
    recipes.set(s.recipeId, c);
  }
  return {
    global,
    recipes: Object.fromEntries([...recipes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

const minus = (a: RecipeCounts | undefined, b: RecipeCounts | undefined): RecipeCounts => ({
  successes: (a?.successes ?? 0) - (b?.successes ?? 0),
  runs: (a?.runs ?? 0) - (b?.runs ?? 0),
});

/**
 * The prior of each target sample learned from the `fit` samples of other repositories: a target whose repository
 * is among the fit samples' has that repository's outcomes taken out first, so no row's prior ever holds its own
 * repository's outcomes.
 */
export function leaveOneRepositoryOutPriors(
  fit: readonly PriorSample[],
  targets: readonly Pick<PriorSample, "repository" | "recipeId">[],
): RecipePrior[] {
  const all = recipePriorsOf(fit);
  const byRepository = new Map<string, PriorSample[]>();
  for (const s of fit) {
    const list = byRepository.get(s.repository) ?? [];
    list.push(s);
    byRepository.set(s.repository, list);
  }
  const own = new Map<string, RecipePriors>();
  for (const [repository, rows] of byRepository) own.set(repository, recipePriorsOf(rows));
  return targets.map((t) => {
    // A row that does not name its recipe (exports older than the recipe id) says nothing about one: it gets the
    // fallback, not the others' global rate, which would differ by repository and so describe it.
    if (t.recipeId === undefined) return { successRate: FALLBACK_RATE, runs: 0 };
    const mine = own.get(t.repository);
    const global = minus(all.global, mine?.global);
    return smoothedPrior(minus(all.recipes[t.recipeId], mine?.recipes[t.recipeId]), global);
  });
}
