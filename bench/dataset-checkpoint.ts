/**
 * corpus:checkpoint — folds the collection database into the committed dataset, so that collection survives a new
 * machine: the committed file is the source of truth, the database only what this machine added.
 *
 *   DATABASE_URL=… npm run corpus:checkpoint -- <dataset.jsonl.gz>
 *
 * Exports the database (`odavl export --format jsonl`), keeps every row of the existing file, adds each exported row
 * it does not hold yet (same repository, commit, recipe, patch and time of prediction), writes the result to a
 * temporary file beside it and renames it into place (a stopped run leaves the old file whole). Prints what it held,
 * what it added and what the dataset now covers. Commit the dataset together with the collection ledger
 * (`odavl collect --ledger data/collection-ledger.tsv`): the ledger says which cycles already ran, the dataset what
 * they found.
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { DatasetError, readDataset } from "../src/model/dataset.js";

function fail(message: string): never {
  console.error(`corpus:checkpoint: ${message}`);
  process.exit(2);
}

const target = process.argv[2];
if (!target || process.argv.length > 3) fail("usage: npm run corpus:checkpoint -- <dataset.jsonl.gz>");
if (!target.endsWith(".jsonl.gz")) fail(`${target}: the dataset must be a .jsonl.gz file`);
if (!process.env.DATABASE_URL) fail("DATABASE_URL must name the collection database");

/** A row as exported, every field kept (the outcome's details too, e.g. `tests`), checked to be trainable. */
type Row = Record<string, unknown> & { repository: string; success: boolean; tests?: unknown };

const key = (r: Row): string => [r.repository, r.sha, r.recipeId, r.patchHash, r.createdAt].join("\t");

/** The rows of a dataset file with every field kept; a malformed line stops the checkpoint with its number. */
async function* rowsOf(path: string): AsyncGenerator<Row> {
  try {
    for await (const row of readDataset(path, { keepAllFields: true })) yield row as Row;
  } catch (err) {
    if (err instanceof DatasetError) fail(err.message);
    throw err;
  }
}

const scratch = mkdtempSync(join(tmpdir(), "odavl-checkpoint-"));
try {
  const exported = join(scratch, "export.jsonl");
  const bin = resolve(import.meta.dirname, "..", "bin", "odavl.js");
  const r = spawnSync(process.execPath, [bin, "export", "--format", "jsonl", "--out", exported], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) fail(`odavl export exited with ${r.status ?? r.signal}`);

  const rows: Row[] = [];
  const seen = new Set<string>();
  if (existsSync(target)) {
    for await (const row of rowsOf(target)) {
      rows.push(row);
      seen.add(key(row));
    }
  }
  const held = rows.length;
  let fromDb = 0;
  for await (const row of rowsOf(exported)) {
    fromDb++;
    if (seen.has(key(row))) continue;
    seen.add(key(row));
    rows.push(row);
  }
  // A sibling temporary file, renamed into place: a stopped run leaves the old dataset whole.
  mkdirSync(dirname(resolve(target)), { recursive: true });
  const next = `${target}.partial`;
  await pipeline(
    Readable.from(
      (function* () {
        for (const row of rows) yield `${JSON.stringify(row)}\n`;
      })(),
    ),
    createGzip({ level: 9 }),
    createWriteStream(next),
  );
  renameSync(next, target);

  const repos = new Map<string, { rows: number; failures: number; testsKnown: number }>();
  for (const row of rows) {
    const s = repos.get(row.repository) ?? { rows: 0, failures: 0, testsKnown: 0 };
    s.rows++;
    if (!row.success) s.failures++;
    if (row.tests === "pass" || row.tests === "fail") s.testsKnown++;
    repos.set(row.repository, s);
  }
  const all = [...repos.values()];
  const sum = (f: (s: (typeof all)[number]) => number) => all.reduce((a, s) => a + f(s), 0);
  console.log(`${target}: held ${held} rows; the database had ${fromDb}; added ${rows.length - held}`);
  console.log(
    `now ${rows.length} rows from ${repos.size} repositories (${all.filter((s) => s.failures > 0).length} with a failure); ` +
      `${sum((s) => s.failures)} failures; tests pass or fail in ${sum((s) => s.testsKnown)} ` +
      `(${rows.length ? ((100 * sum((s) => s.testsKnown)) / rows.length).toFixed(1) : "0"}%)`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
