/**
 * Training entry points: from the database (completed samples of the current feature schema) or from a dataset
 * file; both write the model and its card, and the database one registers the model as a candidate.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "../../db/client.js";
import { outcomes, predictions, repositories } from "../../db/schema.js";
import { type DatasetRow, readDataset, toTrainingSample } from "../dataset.js";
import { FEATURE_SCHEMA_VERSION } from "../features.js";
import { type ModelRow, registerModel } from "../registry.js";
import { type TrainOptions, type TrainResult, trainModels } from "./train.js";

export interface WrittenModel {
  modelPath: string;
  cardPath: string;
}

export function modelFileName(version: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(version)) {
    throw new RangeError(`model version "${version}" may hold only letters, digits, ".", "_" and "-"`);
  }
  return `trust-predictor-${version}.onnx`;
}

export async function writeModelFiles(outDir: string, result: TrainResult): Promise<WrittenModel> {
  await mkdir(outDir, { recursive: true });
  const modelPath = join(outDir, modelFileName(result.card.modelVersion));
  // The card sits beside its model: trust-predictor-v2.onnx and trust-predictor-v2.json.
  const cardPath = modelPath.replace(/\.onnx$/, ".json");
  await writeFile(modelPath, result.onnx);
  await writeFile(cardPath, `${JSON.stringify(result.card, null, 2)}\n`);
  return { modelPath, cardPath };
}

/**
 * Completed samples of a feature schema version: predictions joined with their verified outcomes, grouped by the
 * repository's owner/name. Outcomes whose verification failed (status "error") are not labels and are left out.
 */
export async function loadTrainingRows(
  db: DbOrTx,
  featureSchemaVersion = FEATURE_SCHEMA_VERSION,
): Promise<DatasetRow[]> {
  const rows = await db
    .select({
      owner: repositories.owner,
      name: repositories.name,
      sha: predictions.sha,
      recipeId: predictions.recipeId,
      family: predictions.family,
      safety: predictions.safety,
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
    .where(and(eq(predictions.featureSchemaVersion, featureSchemaVersion), eq(outcomes.status, "verified")))
    .orderBy(predictions.id);
  return rows.map((r) => ({
    repository: `${r.owner}/${r.name}`,
    sha: r.sha,
    recipeId: r.recipeId,
    family: r.family,
    safety: r.safety === "unsafe" ? "unsafe" : "safe",
    featureSchemaVersion: r.featureSchemaVersion,
    features: r.features,
    heuristicTrust: r.heuristicTrust,
    mlTrust: r.mlTrust,
    modelVersion: r.modelVersion,
    success: r.success,
    createdAt: r.createdAt.toISOString(),
  }));
}

export interface TrainFromDbOptions extends Omit<TrainOptions, "modelVersion"> {
  outDir: string;
  version?: string;
}

export interface TrainFromDbResult extends WrittenModel {
  result: TrainResult;
  model: ModelRow;
}

export async function trainFromDb(db: DbOrTx, options: TrainFromDbOptions): Promise<TrainFromDbResult> {
  const { outDir, version, ...rest } = options;
  const rows = await loadTrainingRows(db);
  const result = trainModels(rows.map(toTrainingSample), { ...rest, ...(version ? { modelVersion: version } : {}) });
  const written = await writeModelFiles(outDir, result);
  const model = await registerModel(db, result.card, written.modelPath);
  return { ...written, result, model };
}

export interface TrainFromJsonlOptions extends TrainOptions {
  /** Where to write the model and its card; nothing is written without it. */
  outDir?: string;
}

export interface TrainFromJsonlResult {
  result: TrainResult;
  /** Rows of the file's other feature schema versions, which were not used. */
  skippedRows: number;
  written: WrittenModel | null;
}

/** Trains on a dataset file's rows of the current feature schema version. */
export async function trainFromJsonl(path: string, options: TrainFromJsonlOptions = {}): Promise<TrainFromJsonlResult> {
  const { outDir, ...trainOptions } = options;
  const samples = [];
  let skippedRows = 0;
  for await (const row of readDataset(path)) {
    if (row.featureSchemaVersion === FEATURE_SCHEMA_VERSION) samples.push(toTrainingSample(row));
    else skippedRows++;
  }
  const result = trainModels(samples, trainOptions);
  const written = outDir ? await writeModelFiles(outDir, result) : null;
  return { result, skippedRows, written };
}
