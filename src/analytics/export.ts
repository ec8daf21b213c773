/**
 * The dataset for retraining: one row per prediction with a verified outcome, with its named features, both
 * scores and the outcome, streamed. Rows are read a page at a time (keyset pagination on the prediction id, the
 * same on Postgres and PGlite) and written with backpressure, so memory stays flat however many rows there are.
 *
 * JSON Lines rows are also valid input to `odavl train --dataset` (see src/model/dataset.ts): `features` is the
 * vector in schema order, and `namedFeatures` repeats it keyed by feature name so that a line is self-describing.
 * CSV has one column per feature, named after it. Nothing computed from the outcome beyond the label is exported
 * (the verification score, exported before, gave the label away); the patch hash lets training count identical
 * reruns and twin recipes once (src/model/duplicates.ts).
 *
 * Each row also carries the maintainers' answers, labels beside the outcome (src/db/queries/fix-labels.ts):
 * `applied`, whether a maintainer pressed Apply on the check run that showed this prediction's recipe, and
 * `pullRequest`, what became of the pull request of the same patch in the same repository ("open", "merged",
 * "closed" unmerged, "reverted"; null when none was opened).
 */
import type { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../db/client.js";
import { TRAINABLE_SCHEMA_VERSIONS, v2ToV3Features, v2VectorProblem } from "../model/convert.js";
import { FEATURE_SCHEMA_VERSION, featureNames, validateFeatureVector } from "../model/features.js";
import { AnalyticsOptionError } from "./options.js";
import { rangeClause } from "./samples.js";

export const EXPORT_FORMATS = ["jsonl", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function parseExportFormat(value: string | undefined): ExportFormat {
  if (value === undefined) throw new AnalyticsOptionError("--format", `required: one of ${EXPORT_FORMATS.join(", ")}`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
    throw new AnalyticsOptionError(
      "--format",
      `unknown format "${value}" (expected one of ${EXPORT_FORMATS.join(", ")})`,
    );
  }
  return value as ExportFormat;
}

export interface ExportOptions {
  format: ExportFormat;
  /** Predictions made at or after. */
  since?: Date | undefined;
  /** Rows per database round trip. */
  pageSize?: number;
}

export interface ExportResult {
  rows: number;
  /** Rows left out because their feature vector is invalid (`odavl check-data` lists them). */
  skippedInvalid: number;
  /** Rows stored in feature schema v2, exported converted to the current schema. */
  converted: number;
  /** The schema of every exported row. */
  featureSchemaVersion: number;
}

interface ExportRow extends Record<string, unknown> {
  id: number;
  repository: string;
  sha: string | null;
  recipe_id: string;
  family: string;
  safety: string;
  scope: string;
  /** ISO 8601, formatted by Postgres (parsing a Date per row costs more than the query). */
  created_at: string;
  /** The float8[] as Postgres prints it; split by {@link splitFloatArray}. */
  features: string;
  heuristic_trust: number;
  ml_trust: number | null;
  trust: number;
  tier: string;
  used_ml: boolean;
  model_version: string | null;
  latency_ms: number;
  success: boolean;
  tests: string;
  patch_hash: string;
  feature_schema_version: number;
  applied: boolean;
  pull_request: string | null;
}

/** Columns before the features, in CSV order. */
export const CSV_HEAD = [
  "predictionId",
  "repository",
  "sha",
  "recipeId",
  "family",
  "safety",
  "scope",
  "patchHash",
  "createdAt",
  "featureSchemaVersion",
] as const;
/** Columns after the features. */
export const CSV_TAIL = [
  "heuristicTrust",
  "mlTrust",
  "trust",
  "tier",
  "usedMl",
  "modelVersion",
  "latencyMs",
  "success",
  "tests",
  "applied",
  "pullRequest",
] as const;

/** RFC 4180: quoted when it holds a comma, quote, or line break; quotes doubled. */
function csvField(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return `${[...CSV_HEAD, ...featureNames(), ...CSV_TAIL].map(csvField).join(",")}\n`;
}

/**
 * Splits Postgres' text form of a float8[] (`{0,0.25,NaN,Infinity,NULL}`) into its elements, several times faster
 * than the drivers' generic array parsers, which dominated the export's time. Postgres prints floats in their
 * shortest exact form (extra_float_digits 1, the default since Postgres 12), so Number() of an element gives back
 * the stored value, and a finite element's text is already a valid JSON and CSV number: it is written as it came.
 */
function splitFloatArray(text: string): string[] {
  return text.length <= 2 ? [] : text.slice(1, -1).split(",");
}

function csvLine(r: ExportRow, features: readonly string[]): string {
  const head = [
    r.id,
    r.repository,
    r.sha,
    r.recipe_id,
    r.family,
    r.safety,
    r.scope,
    r.patch_hash,
    r.created_at,
    FEATURE_SCHEMA_VERSION,
  ];
  const tail = [
    r.heuristic_trust,
    r.ml_trust,
    r.trust,
    r.tier,
    r.used_ml,
    r.model_version,
    r.latency_ms,
    r.success,
    r.tests,
    r.applied,
    r.pull_request,
  ];
  // Features are finite numbers (invalid vectors are skipped): never quoted.
  return `${head.map(csvField).join(",")},${features.join(",")},${tail.map(csvField).join(",")}\n`;
}

/** Feature names as JSON string prefixes (`"name":`), built once: the JSON line is assembled by hand for speed. */
let namedPrefixes: string[] | null = null;

function jsonLine(r: ExportRow, features: readonly string[]): string {
  namedPrefixes ??= featureNames().map((n) => `${JSON.stringify(n)}:`);
  const named = features.map((v, i) => `${namedPrefixes?.[i]}${v}`).join(",");
  const head = JSON.stringify({
    predictionId: Number(r.id),
    repository: r.repository,
    sha: r.sha,
    recipeId: r.recipe_id,
    family: r.family,
    safety: r.safety,
    scope: r.scope,
    patchHash: r.patch_hash,
    createdAt: r.created_at,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    heuristicTrust: r.heuristic_trust,
    mlTrust: r.ml_trust,
    trust: r.trust,
    tier: r.tier,
    usedMl: r.used_ml,
    modelVersion: r.model_version,
    latencyMs: r.latency_ms,
    success: r.success,
    tests: r.tests,
    applied: r.applied,
    pullRequest: r.pull_request,
  });
  // Every feature is a finite number here (invalid vectors are skipped), so its text is valid JSON.
  return `${head.slice(0, -1)},"features":[${features.join(",")}],"namedFeatures":{${named}}}\n`;
}

/**
 * Writes to a stream, waiting for 'drain' when its buffer is full. A failure of the stream (a reader that went
 * away: EPIPE) rejects the next write instead of crashing the process with an unhandled 'error' event.
 */
export function streamWriter(out: Writable): (chunk: string) => Promise<void> {
  let failure: Error | null = null;
  out.on("error", (err) => {
    failure ??= err;
  });
  return (chunk) =>
    new Promise<void>((resolve, reject) => {
      if (failure) {
        reject(failure);
        return;
      }
      let flowing: boolean;
      try {
        flowing = out.write(chunk);
      } catch (err) {
        reject(err);
        return;
      }
      if (flowing) {
        resolve();
        return;
      }
      const onDrain = () => {
        out.off("error", onError);
        resolve();
      };
      const onError = (err: Error) => {
        out.off("drain", onDrain);
        reject(err);
      };
      out.once("drain", onDrain);
      out.once("error", onError);
    });
}

/**
 * Rows per round trip. Measured on 100,000 rows (bench/export.ts): 1,000 rows a page peaked at about 135 MB RSS,
 * 5,000 at about 220 MB, at the same speed within the noise; the page is the memory that does not stay flat.
 */
const DEFAULT_PAGE = 1_000;

/**
 * Streams the dataset to `write`, every row in the current feature schema: rows stored in schema v2 are converted
 * (convert.ts: the features change, nothing else), so that CSV columns are this version's feature names and
 * everything collected trains the current model. Rows with an invalid vector (for their own schema) are counted
 * and left out.
 */
export async function exportDataset(
  db: DbOrTx,
  options: ExportOptions,
  write: (chunk: string) => Promise<void>,
): Promise<ExportResult> {
  const page = options.pageSize ?? DEFAULT_PAGE;
  const format = parseExportFormat(options.format);
  if (format === "csv") await write(csvHeader());
  let rows = 0;
  let skippedInvalid = 0;
  let converted = 0;
  let last = 0;
  for (;;) {
    const batch = await queryRows<ExportRow>(
      db,
      sql`select p.id, r.owner || '/' || r.name as repository, p.sha, p.recipe_id, p.family, p.safety, p.scope,
            to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
            p.features::text as features, p.heuristic_trust, p.ml_trust, p.trust, p.tier, p.used_ml, p.model_version,
            p.latency_ms, o.success, o.tests, p.patch_hash, p.feature_schema_version,
            exists (
              select 1 from cycles c join apply_clicks k on k.repository_id = c.repository_id
                and k.check_run_id = c.check_run_id and k.recipe_id = p.recipe_id
              where c.id = p.cycle_id
            ) as applied,
            (
              select f.state from fix_pull_requests f
              where f.repository_id = p.repository_id and f.patch_hash = p.patch_hash
              order by f.id desc limit 1
            ) as pull_request
          from predictions p
          -- The bound on o.prediction_id is implied by p.id's, but Postgres does not infer it: without it a merge
          -- join scans the outcomes index from the start on every page, and the export turns quadratic.
          join outcomes o on o.prediction_id = p.id and o.status = 'verified' and o.prediction_id > ${last}
          join repositories r on r.id = p.repository_id
          where p.id > ${last} and p.feature_schema_version in (${sql.join(
            TRAINABLE_SCHEMA_VERSIONS.map((v) => sql`${v}`),
            sql`, `,
          )})${rangeClause({ since: options.since })}
          order by p.id
          limit ${page}`,
    );
    if (batch.length === 0) break;
    let chunk = "";
    for (const r of batch) {
      let features = splitFloatArray(r.features);
      // A NULL element reads as NaN, which validation rejects like any other missing value.
      if (Number(r.feature_schema_version) === FEATURE_SCHEMA_VERSION) {
        if (validateFeatureVector(features.map(Number)).length > 0) {
          skippedInvalid++;
          continue;
        }
      } else {
        const v2 = features.map(Number);
        if (v2VectorProblem(v2)) {
          skippedInvalid++;
          continue;
        }
        // Finite numbers: String() gives valid JSON and CSV numbers.
        features = v2ToV3Features(v2).map(String);
        converted++;
      }
      chunk += format === "csv" ? csvLine(r, features) : jsonLine(r, features);
      rows++;
    }
    if (chunk) await write(chunk);
    if (batch.length < page) break;
    last = Number((batch[batch.length - 1] as ExportRow).id);
  }
  return { rows, skippedInvalid, converted, featureSchemaVersion: FEATURE_SCHEMA_VERSION };
}
