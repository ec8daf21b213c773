/**
 * Rows of feature schema v2 in schema v3 terms, so that everything collected before v3 still trains the v3 model.
 *
 * v3 keeps every v2 feature of the recipe, its history and the change as it was computed; it drops the
 * repository's description (baseline diagnostics and lint findings, size, TypeScript version, tests, strict and
 * each compiler option: together they identified the repository, and four never varied), and adds:
 * - `recipe.prior.logit` and `recipe.prior.runs`: written as a recipe unknown to the prior (the fallback
 *   rate, no runs); training computes them from other repositories' rows, so the stored value is never used;
 * - `repo.ts.optionRisk`: from the v2 compiler-option features, as v3 computes it from the tsconfig;
 * - `heuristic.logit`: the heuristic's logit of the converted vector, which is the logit of the heuristic score
 *   stored with the v2 row (the heuristic reads the same inputs in both schemas).
 */
import type { DatasetRow } from "./dataset.js";
import { FEATURE_COUNT, featureNames, featureSpecs, writePriorFeatures } from "./features.js";
import { compilerOptionRisk, heuristicLogit } from "./heuristic.js";
import { priorOf } from "./priors.js";
import { FEATURE_SCHEMA_VERSION, featureIndex } from "./schema.js";

/** The feature names of schema v2, in its vector order (all of them in [0, 1]). */
export const V2_FEATURE_NAMES = [
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
  "repo.baselineDiagnostics",
  "repo.baselineLintFindings",
  "repo.hasTests",
  "repo.testsPassing",
  "repo.testsFailing",
  "repo.strict",
  "repo.size",
  "repo.ts.versionKnown",
  "repo.ts.version",
  "repo.ts.atLeast45",
  "repo.ts.noPropertyAccessFromIndexSignature",
  "repo.ts.strictNullChecks",
  "repo.ts.emitDecoratorMetadata",
  "repo.ts.experimentalDecorators",
  "repo.ts.isolatedModules",
  "repo.ts.verbatimModuleSyntax",
] as const;

/** The schema versions whose rows train the current model (v2 rows converted). */
export const TRAINABLE_SCHEMA_VERSIONS: readonly number[] = [2, FEATURE_SCHEMA_VERSION];

export class SchemaConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaConversionError";
  }
}

const V2_INDEX = new Map<string, number>(V2_FEATURE_NAMES.map((n, i) => [n, i]));

/** The first problem of a schema v2 vector (its length, or a value that is not a finite number in [0, 1]). */
export function v2VectorProblem(
  v: readonly unknown[],
): { kind: "length" | "not-finite" | "out-of-range"; message: string } | null {
  if (v.length !== V2_FEATURE_NAMES.length) {
    return { kind: "length", message: `expected ${V2_FEATURE_NAMES.length} features (schema v2), got ${v.length}` };
  }
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x))
      return { kind: "not-finite", message: `${V2_FEATURE_NAMES[i]}: not a finite number` };
    if (x < 0 || x > 1) return { kind: "out-of-range", message: `${V2_FEATURE_NAMES[i]}: ${x} outside [0, 1]` };
  }
  return null;
}

/** A schema v2 vector as schema v3 (see the module's comment); throws for a vector that is not valid v2. */
export function v2ToV3Features(v2: readonly number[]): number[] {
  const problem = v2VectorProblem(v2);
  if (problem) throw new SchemaConversionError(problem.message);
  const at = (name: (typeof V2_FEATURE_NAMES)[number]) => v2[V2_INDEX.get(name) as number] as number;
  const specs = featureSpecs();
  const out = featureNames().map((name) => {
    const i = V2_INDEX.get(name);
    return i === undefined ? 0 : (v2[i] as number);
  });
  writePriorFeatures(out, 0, priorOf(null, undefined));
  out[featureIndex("repo.ts.optionRisk")] = compilerOptionRisk({
    oldTypeScript: at("repo.ts.versionKnown") === 1 && at("repo.ts.atLeast45") === 0,
    noPropertyAccessFromIndexSignature: at("repo.ts.noPropertyAccessFromIndexSignature") === 1,
    strictNullChecks: at("repo.ts.strictNullChecks") === 1,
    emitDecoratorMetadata: at("repo.ts.emitDecoratorMetadata") === 1,
    moduleSyntax: at("repo.ts.isolatedModules") === 1 || at("repo.ts.verbatimModuleSyntax") === 1,
  });
  const h = featureIndex("heuristic.logit");
  const spec = specs[h] as (typeof specs)[number];
  out[h] = Math.min(spec.max, Math.max(spec.min, heuristicLogit(out)));
  if (out.length !== FEATURE_COUNT) throw new SchemaConversionError("conversion produced a vector of another length");
  return out;
}

/**
 * A dataset row in the current schema: v3 rows as they are, v2 rows converted (the features; everything else is
 * kept). Other versions cannot be converted and throw, naming the version.
 */
export function toCurrentSchema<T extends DatasetRow>(row: T): T {
  if (row.featureSchemaVersion === FEATURE_SCHEMA_VERSION) return row;
  if (row.featureSchemaVersion === 2) {
    return { ...row, featureSchemaVersion: FEATURE_SCHEMA_VERSION, features: v2ToV3Features(row.features) };
  }
  throw new SchemaConversionError(
    `feature schema v${row.featureSchemaVersion} cannot be converted to v${FEATURE_SCHEMA_VERSION} (only v2 can)`,
  );
}
