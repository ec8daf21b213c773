/**
 * Streaming export: rows per second and peak memory of `odavl export` over a million stored samples.
 *
 *   DATABASE_URL=postgres://… npm run bench:export -- [--rows 1000000] [--format jsonl|csv|both] [--page-size N]
 *                                                    [--out FILE] [--json]
 *
 * Creates a throwaway database on the DATABASE_URL server, fills it with generated rows in SQL
 * (insert … select generate_series), exports them to /dev/null (or --out FILE) while sampling the resident set
 * size every 20 ms, prints the figures and drops the database. The target is a flat memory profile: peak RSS under
 * 300 MB whatever the row count.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { type ExportFormat, exportDataset, streamWriter } from "../src/analytics/export.js";
import { openDb } from "../src/db/client.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../src/model/features.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    format: { type: "string", default: "both" },
    out: { type: "string" },
    "page-size": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer, got ${values.rows}`);
const formats: ExportFormat[] =
  values.format === "both"
    ? ["jsonl", "csv"]
    : values.format === "jsonl" || values.format === "csv"
      ? [values.format]
      : [];
if (formats.length === 0) throw new Error(`--format must be jsonl, csv or both, got ${values.format}`);
const pageSize = values["page-size"] === undefined ? undefined : Number(values["page-size"]);
if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
  throw new Error(`--page-size must be a positive integer, got ${values["page-size"]}`);
}
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl)
  throw new Error("bench/export.ts needs DATABASE_URL (a Postgres server where it may create a database)");

const MB = 1024 * 1024;
/** Cycles the rows are spread over (a cycle per 1,000 candidates is far more than real cycles have). */
const CYCLES = Math.max(1, Math.ceil(rows / 1000));

const name = `odavl_bench_${randomBytes(5).toString("hex")}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;

const log = (s: string) => {
  if (!values.json) process.stdout.write(`${s}\n`);
};

try {
  const handle = await openDb({ databaseUrl: url.toString(), poolSize: 2 });
  const db = handle.db;
  const t0 = performance.now();
  await db.execute(sql`insert into repositories (owner, name, mode, data_collection)
    select 'bench', 'repo-' || g, 'shadow', true from generate_series(1, 50) g`);
  await db.execute(sql`insert into cycles (repository_id, run_key, sha, trigger, status, data_stored, facts)
    select 1 + (g % 50), 'bench-' || g, md5(g::text), 'shadow', 'completed', true,
      jsonb_build_object('linesOfCode', 1000 * g, 'hasTests', g % 2 = 0, 'framework', null)
    from generate_series(1, ${CYCLES}) g`);
  // A valid vector (every feature in [0, 1]) whose first two features vary with the row.
  const tail = `array[${Array.from({ length: FEATURE_COUNT - 2 }, (_, i) => ((i % 10) / 10).toFixed(1)).join(",")}]::float8[]`;
  await db.execute(sql`insert into predictions (cycle_id, repository_id, sha, candidate_key, recipe_id, family, safety,
      scope, files, lines_added, lines_removed, patch_hash, feature_schema_version, features, ml_trust, heuristic_trust,
      trust, tier, used_ml, model_version, latency_ms, confidence, reason, created_at)
    select c.id, c.repository_id, c.sha, 'eslint/rule-' || (g % 40) || ':all:' || g, 'eslint/rule-' || (g % 40),
      'eslint', 'safe', 'all', '["src/a.ts"]'::jsonb, 1 + g % 7, g % 5, md5(g::text), ${FEATURE_SCHEMA_VERSION},
      array[(g % 10) / 10.0, (g % 7) / 7.0]::float8[] || ${sql.raw(tail)},
      (g % 100) / 100.0, (g % 97) / 97.0, (g % 100) / 100.0,
      case when g % 100 >= 85 then 'auto-apply' when g % 100 >= 65 then 'review-suggested' else 'manual-only' end,
      true, 'bench', 0.5 + (g % 13) / 10.0, 0.5, 'bench', now() - (g || ' seconds')::interval
    from generate_series(1, ${rows}) g
    join cycles c on c.run_key = 'bench-' || (1 + g % ${CYCLES})`);
  await db.execute(sql`insert into outcomes (prediction_id, success, status, diagnostics_before, diagnostics_after,
      new_diagnostics, lint_before, lint_after, new_lint_findings, target_before, target_after, tests,
      verification_score, durations_ms)
    select id, id % 11 <> 0, 'verified', 0, 0, 0, 1, 0, 0, 1, 0, 'pass', 1, '{"total": 1}'::jsonb from predictions`);
  await db.execute(sql`analyze`);
  log(
    `inserted ${rows.toLocaleString("en-US")} predictions with outcomes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const results = [];
  for (const format of formats) {
    // Settle the heap before measuring, so that the baseline is not the insert's garbage.
    (globalThis as { gc?: () => void }).gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const path = values.out ? values.out.replace(/(\.[^./]+)?$/, `.${format}`) : "/dev/null";
    const out = createWriteStream(path);
    const start = performance.now();
    const result = await exportDataset(db, { format, ...(pageSize ? { pageSize } : {}) }, streamWriter(out));
    out.end();
    await finished(out);
    const seconds = (performance.now() - start) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
    const figures = {
      format,
      rows: result.rows,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(result.rows / seconds),
      baselineRssMb: Number((baseline / MB).toFixed(1)),
      peakRssMb: Number((peak / MB).toFixed(1)),
      bytes: values.out ? statSync(path).size : null,
      output: path,
    };
    results.push(figures);
    log(
      `${format}: ${figures.rows.toLocaleString("en-US")} rows in ${figures.seconds} s = ${figures.rowsPerSecond.toLocaleString("en-US")} rows/s; RSS ${figures.baselineRssMb} MB before, peak ${figures.peakRssMb} MB${
        figures.bytes !== null ? `; ${(figures.bytes / MB).toFixed(0)} MB written to ${path}` : ""
      } ${figures.peakRssMb < 300 ? "(under 300 MB)" : "(OVER 300 MB)"}`,
    );
    if (result.rows !== rows) throw new Error(`exported ${result.rows} rows, expected ${rows}`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ rows, results }, null, 2)}\n`);
  await handle.close();
} finally {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
