/**
 * The training rows of several dataset files: every row converted to the current feature schema (v2 rows, see
 * convert.ts), and the files combined so that no commit is counted twice. A later file is a later collection:
 * where it holds a repository's commit, its rows replace the earlier files' rows of that commit (a collection that
 * re-verifies a commit, e.g. now running the repository's tests, knows its outcomes better). Rows without a commit
 * are all kept. Duplicates within the result are left to {@link withoutDuplicates} (duplicates.ts).
 */
import { SchemaConversionError, TRAINABLE_SCHEMA_VERSIONS, toCurrentSchema } from "./convert.js";
import { type DatasetRow, readDataset } from "./dataset.js";

export interface CombinedDatasets {
  rows: DatasetRow[];
  /** Rows of a feature schema that cannot be converted (neither v2 nor the current one), which were not used. */
  skippedRows: number;
  /** Rows of an earlier file left out because a later file holds their commit. */
  replacedRows: number;
  /** Per file: its rows read, and its rows in the result. */
  files: { path: string; rows: number; used: number }[];
}

const commitOf = (row: DatasetRow): string | null => (row.sha ? JSON.stringify([row.repository, row.sha]) : null);

/**
 * Combines rows already read, file by file in order (see the module's comment); `names` name the files in errors.
 */
export function combineRows(
  files: readonly (readonly DatasetRow[])[],
  names: readonly string[] = files.map((_, i) => `file ${i + 1}`),
): Omit<CombinedDatasets, "files"> & { used: number[] } {
  let skippedRows = 0;
  const converted = files.map((rows, f) =>
    rows.flatMap((row, i) => {
      if (!TRAINABLE_SCHEMA_VERSIONS.includes(row.featureSchemaVersion)) {
        skippedRows++;
        return [];
      }
      try {
        return [toCurrentSchema(row)];
      } catch (err) {
        if (err instanceof SchemaConversionError) {
          throw new SchemaConversionError(`${names[f]}, row ${i + 1} (${row.repository}): ${err.message}`);
        }
        throw err;
      }
    }),
  );
  // The last file holding each commit.
  const owner = new Map<string, number>();
  converted.forEach((rows, f) => {
    for (const row of rows) {
      const c = commitOf(row);
      if (c !== null) owner.set(c, f);
    }
  });
  const rows: DatasetRow[] = [];
  const used: number[] = [];
  let replacedRows = 0;
  converted.forEach((list, f) => {
    let n = 0;
    for (const row of list) {
      const c = commitOf(row);
      if (c !== null && owner.get(c) !== f) {
        replacedRows++;
        continue;
      }
      rows.push(row);
      n++;
    }
    used.push(n);
  });
  return { rows, skippedRows, replacedRows, used };
}

/** Reads and combines dataset files (see the module's comment); a malformed or unconvertible row names its file. */
export async function readDatasets(paths: readonly string[]): Promise<CombinedDatasets> {
  if (paths.length === 0) throw new RangeError("no dataset file given");
  const files: DatasetRow[][] = [];
  for (const path of paths) {
    const rows: DatasetRow[] = [];
    for await (const row of readDataset(path)) rows.push(row);
    files.push(rows);
  }
  const { used, ...rest } = combineRows(files, paths);
  return { ...rest, files: paths.map((path, i) => ({ path, rows: files[i]?.length ?? 0, used: used[i] ?? 0 })) };
}
