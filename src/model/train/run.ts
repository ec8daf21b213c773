/**
 * Training entry points: from the database (completed samples of the current feature schema) or from a dataset
 * file; both write the model and its card, and the database one registers the model as a candidate.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "../../db/client.js";
import { outcomes, predictions, repositories } from "../../db/schema.js";
import { readDatasets } from "../combine.js";
import { TRAINABLE_SCHEMA_VERSIONS, toCurrentSchema } from "../convert.js";
import type { DatasetRow } from "../dataset.js";
import { trainingSamples } from "../duplicates.js";
import { type ModelRow, registerTrained } from "../registry.js";
import { measureLatency } from "./latency.js";
import { type TrainingSample, type TrainOptions, type TrainResult, trainModels } from "./train.js";

/**
 * Adds the measured inference time to the card and to its validation table (the majority baseline costs
 * nothing). Measured here, not in training, so that training stays a pure function of its data and seed.
 */
async function withLatency(result: TrainResult, samples: readonly TrainingSample[]): Promise<TrainResult> {
  const latency = await measureLatency(
    result.onnx,
    samples.map((s) => s.features),
  );
  const card = { ...result.card, latency };
  const cell = (value: number) => ({ value, low: null, high: null });
  card.heldOut = {
    ...card.heldOut,
    validation: [
      ...(card.heldOut.validation ?? []).filter((r) => !r.metric.startsWith("latency")),
      {
        metric: `latency (median ms a batch of ${latency.batchSize})`,
        model: cell(latency.medianMs),
        heuristic: cell(latency.heuristicMedianMs),
        majority: cell(0),
      },
    ],
  };
  return { ...result, card };
}

export interface WrittenModel {
  modelPath: string;
  cardPath: string;
}

/**
 * The model file's name: `<name>.onnx`, by default `trust-predictor-<version>.onnx`. The name is only where the
 * file goes; the model's identity is its version (a content hash), which the file carries inside.
 */
function modelFileName(version: string, name?: string): string {
  const stem = name ?? `trust-predictor-${version}`;
  if (!/^[A-Za-z0-9._-]+$/.test(stem) || stem.startsWith(".")) {
    throw new RangeError(`model file name "${stem}" may hold only letters, digits, ".", "_" and "-"`);
  }
  return `${stem}.onnx`;
}

async function writeModelFiles(outDir: string, result: TrainResult, name?: string): Promise<WrittenModel> {
  await mkdir(outDir, { recursive: true });
  const modelPath = join(outDir, modelFileName(result.card.modelVersion, name));
  // The card sits beside its model: trust-predictor.onnx and trust-predictor.json.
  const cardPath = modelPath.replace(/\.onnx$/, ".json");
  await writeFile(modelPath, result.onnx);
  await writeFile(cardPath, `${JSON.stringify(result.card, null, 2)}\n`);
  return { modelPath, cardPath };
}

/**
 * Completed samples in the current feature schema (rows of schema v2 converted, see convert.ts): predictions
 * joined with their verified outcomes, grouped by the repository's owner/name. Outcomes whose verification failed
 * (status "error") are not labels and are left out.
 */
export async function loadTrainingRows(db: DbOrTx): Promise<DatasetRow[]> {
  const rows = await db
    .select({
      owner: repositories.owner,
      name: repositories.name,
      sha: predictions.sha,
      recipeId: predictions.recipeId,
      family: predictions.family,
      safety: predictions.safety,
      scope: predictions.scope,
      patchHash: predictions.patchHash,
      featureSchemaVersion: predictions.featureSchemaVersion,
      features: predictions.features,
      heuristicTrust: predictions.heuristicTrust,
      mlTrust: predictions.mlTrust,
      modelVersion: predictions.modelVersion,
      success: outcomes.success,
      createdAt: predictions.createdAt,
    })
    .from(predictions)
    .innerJoin(outcomes, eq(outcomes.predictionId, predictions.id))
    .innerJoin(repositories, eq(repositories.id, predictions.repositoryId))
    .where(
      and(inArray(predictions.featureSchemaVersion, [...TRAINABLE_SCHEMA_VERSIONS]), eq(outcomes.status, "verified")),
    )
    .orderBy(predictions.id);
  return rows.map((r) =>
    toCurrentSchema({
      repository: `${r.owner}/${r.name}`,
      sha: r.sha,
      recipeId: r.recipeId,
      family: r.family,
      safety: r.safety === "unsafe" ? "unsafe" : "safe",
      scope: r.scope,
      patchHash: r.patchHash,
      featureSchemaVersion: r.featureSchemaVersion,
      features: r.features,
      heuristicTrust: r.heuristicTrust,
      mlTrust: r.mlTrust,
      modelVersion: r.modelVersion,
      success: r.success,
      createdAt: r.createdAt.toISOString(),
    } satisfies DatasetRow),
  );
}

export interface TrainFromDbOptions extends TrainOptions {
  outDir: string;
  /** The files' name without extension; `trust-predictor-<version>` when absent. */
  name?: string;
}

export interface TrainFromDbResult extends WrittenModel {
  result: TrainResult;
  model: ModelRow;
}

export async function trainFromDb(db: DbOrTx, options: TrainFromDbOptions): Promise<TrainFromDbResult> {
  const { outDir, name, ...rest } = options;
  const rows = await loadTrainingRows(db);
  const { samples } = trainingSamples(rows);
  const result = await withLatency(trainModels(samples, rest), samples);
  const written = await writeModelFiles(outDir, result, name);
  const model = await registerTrained(db, result.card, written.modelPath);
  return { ...written, result, model };
}

export interface TrainFromJsonlOptions extends TrainOptions {
  /** Where to write the model and its card; nothing is written without it. */
  outDir?: string;
  /** The files' name without extension; `trust-predictor-<version>` when absent. */
  name?: string;
}

export interface TrainFromJsonlResult {
  result: TrainResult;
  /** Rows of feature schema versions that cannot be converted to the current one, which were not used. */
  skippedRows: number;
  /** Rows of an earlier file whose commit a later file holds, which were not used (see combine.ts). */
  replacedRows: number;
  /** Rows that repeat an earlier run of the same patch on the same commit, which add no training row. */
  duplicates: number;
  written: WrittenModel | null;
}

/**
 * Trains on dataset files combined (see combine.ts: rows of schema v2 converted, a later file's commits replacing
 * an earlier file's).
 */
export async function trainFromJsonl(
  paths: string | readonly string[],
  options: TrainFromJsonlOptions = {},
): Promise<TrainFromJsonlResult> {
  const { outDir, name, ...trainOptions } = options;
  const { rows, skippedRows, replacedRows } = await readDatasets(typeof paths === "string" ? [paths] : paths);
  const { samples, duplicates } = trainingSamples(rows);
  const trained = trainModels(samples, trainOptions);
  const result = outDir ? await withLatency(trained, samples) : trained;
  const written = outDir ? await writeModelFiles(outDir, result, name) : null;
  return { result, skippedRows, replacedRows, duplicates, written };
}
