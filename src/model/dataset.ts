/**
 * The training dataset file: gzip'ed JSON Lines, one completed sample (prediction and its verified outcome) per
 * line. Holds features, scores and outcome only, never source code, and nothing computed from the outcome beyond
 * the label itself (files exported before carry a `verificationScore`, which readers ignore: it gave the label away). Read and written as streams so that a large
 * collection never has to fit in memory as text.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { z } from "zod";
import type { TrainingSample } from "./train/train.js";

export const datasetRowSchema = z.object({
  /** "owner/name": the group for cross-validation. */
  repository: z.string().min(1),
  sha: z.string().nullable().optional(),
  recipeId: z.string().optional(),
  family: z.string().optional(),
  safety: z.enum(["safe", "unsafe"]).optional(),
  /** The candidate's scope ("all", "file", ...). */
  scope: z.string().optional(),
  /** The patch's hash: identical edits (reruns, twin recipes) share it. Absent in exports made before it. */
  patchHash: z.string().optional(),
  featureSchemaVersion: z.number().int().positive(),
  features: z.array(z.number()),
  heuristicTrust: z.number().min(0).max(1),
  mlTrust: z.number().min(0).max(1).nullable().optional(),
  modelVersion: z.string().nullable().optional(),
  /** The outcome: the patch kept type check, lint and tests green. */
  success: z.boolean(),
  /** When the prediction was made (ISO 8601). */
  createdAt: z.string().optional(),
});

export type DatasetRow = z.infer<typeof datasetRowSchema>;

export class DatasetError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly line: number,
    options?: { cause?: unknown },
  ) {
    super(`${path}:${line}: ${message}`, options);
    this.name = "DatasetError";
  }
}

const isGzip = (path: string): boolean => path.endsWith(".gz");

export interface ReadDatasetOptions {
  /**
   * Keep the fields training does not read (the outcome's details, e.g. `tests`, the named features): for tools
   * that rewrite a dataset and must not lose them. By default a row holds only {@link datasetRowSchema}'s fields.
   */
  keepAllFields?: boolean;
}

/** Rows of a dataset file (gzip'ed when the name ends in .gz); a malformed line stops the read with its number. */
export async function* readDataset(path: string, options: ReadDatasetOptions = {}): AsyncGenerator<DatasetRow> {
  const file = createReadStream(path);
  const text = isGzip(path) ? file.pipe(createGunzip()) : file;
  file.on("error", (err) => text.destroy(err));
  const lines = createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new DatasetError("not JSON", path, n, { cause: err });
      }
      const parsed = datasetRowSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new DatasetError(`${issue?.path.join(".") || "row"}: ${issue?.message}`, path, n, {
          cause: parsed.error,
        });
      }
      // Kept whole, the row is the line as written (its fields in their order), checked like any other.
      yield options.keepAllFields ? (value as DatasetRow) : parsed.data;
    }
  } finally {
    lines.close();
    file.destroy();
  }
}

/** Writes rows as (gzip'ed when the name ends in .gz) JSON Lines; returns the number written. */
export async function writeDataset(
  path: string,
  rows: Iterable<DatasetRow> | AsyncIterable<DatasetRow>,
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  let count = 0;
  async function* lines() {
    for await (const row of rows) {
      count++;
      yield `${JSON.stringify(datasetRowSchema.parse(row))}\n`;
    }
  }
  const source = Readable.from(lines());
  if (isGzip(path)) await pipeline(source, createGzip(), createWriteStream(path));
  else await pipeline(source, createWriteStream(path));
  return count;
}

export function toTrainingSample(row: DatasetRow): TrainingSample {
  return {
    features: row.features,
    label: row.success ? 1 : 0,
    repository: row.repository,
    heuristicTrust: row.heuristicTrust,
    ...(row.recipeId !== undefined ? { recipeId: row.recipeId } : {}),
  };
}
