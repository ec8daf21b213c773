/**
 * The names of feature schema v3, in vector order, and the schema's version: what the heuristic and the feature
 * computation agree on (features.ts defines how each is computed, heuristic.ts reads them by name).
 */
export const FEATURE_SCHEMA_VERSION = 3;

/** Consecutive failures are counted up to this many; more say nothing new. */
export const MAX_CONSECUTIVE_FAILURES = 5;

export const FEATURE_NAMES = [
  "recipe.family.tsCodefix",
  "recipe.family.eslint",
  "recipe.family.biome",
  "recipe.category.imports",
  "recipe.category.style",
  "recipe.category.types",
  "recipe.category.correctness",
  "recipe.category.modernize",
  "recipe.category.other",
  "recipe.unsafe",
  "recipe.prior.logit",
  "recipe.prior.runs",
  "recipe.crowd.successRate",
  "recipe.crowd.runs",
  "history.repo.successRate",
  "history.repo.runs",
  "history.repo.consecutiveFailures",
  "change.files",
  "change.linesAdded",
  "change.linesRemoved",
  "change.testFileShare",
  "change.touchesTypeTests",
  "change.touchesExportedApi",
  "change.targetFindings",
  "change.fileScope",
  "repo.ts.optionRisk",
  "heuristic.logit",
] as const;

const INDEX = new Map<string, number>(FEATURE_NAMES.map((n, i) => [n, i]));

/** Position of a feature in the vector; throws for an unknown name (a typo must not read feature 0). */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new RangeError(`unknown feature "${name}" in schema v${FEATURE_SCHEMA_VERSION}`);
  return i;
}
