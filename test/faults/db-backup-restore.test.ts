/**
 * Item 18: a backup with pg_dump restored into a fresh database keeps every row (row counts and content checksums
 * of every table match), and the app runs against the restored database: it migrates (nothing to apply), reads
 * its progress figures, and records a new cycle's predictions and outcomes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { loadProgress } from "../../src/analytics/progress.js";
import { openDb, queryRows } from "../../src/db/client.js";
import { finishCycle, startCycle } from "../../src/db/queries/cycles.js";
import { findRepository } from "../../src/db/queries/repositories.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../helpers/db.js";
import { fillEveryTable, tableChecksums } from "../helpers/fill.js";
import { sampleResult } from "../helpers/samples.js";
import { postgresBinary } from "../queue/services.js";

describe("pg_dump and restore into a fresh database", () => {
  const dir = mkdtempSync(join(tmpdir(), "odavl-backup-"));
  const urls: string[] = [];
  afterAll(async () => {
    for (const url of urls) await dropPostgresDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every row and checksum, and the app runs against the restored database", async () => {
    const pgDump = postgresBinary("pg_dump");
    const pgRestore = postgresBinary("pg_restore");
    expect(pgDump, "pg_dump is installed with PostgreSQL").toBeTruthy();
    expect(pgRestore, "pg_restore is installed with PostgreSQL").toBeTruthy();
    const source = await createPostgresDatabase();
    urls.push(source);
    const original = await openDb({ databaseUrl: source, migrate: true, poolSize: 2 });
    await fillEveryTable(original.db);
    const before = await tableChecksums(original.db);
    for (const [table, { rows }] of Object.entries(before)) expect(rows, `${table} has rows`).toBeGreaterThan(0);
    await original.close();

    // The backup as docs/operations.md describes it: custom format, then restore into an empty database.
    const dump = join(dir, "odavl.dump");
    execFileSync(pgDump as string, ["--format=custom", "--no-owner", `--file=${dump}`, source]);
    const target = await createPostgresDatabase();
    urls.push(target);
    execFileSync(pgRestore as string, ["--no-owner", "--exit-on-error", `--dbname=${target}`, dump]);

    const restored = await openDb({ databaseUrl: target, migrate: true, poolSize: 2 });
    try {
      expect(await tableChecksums(restored.db)).toEqual(before);
      const migrations = await queryRows<{ n: number }>(
        restored.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      expect(migrations[0]?.n).toBeGreaterThan(0);

      // The app runs on it: progress reads the restored samples; a new cycle's rows go in beside them (the
      // sequences were restored too, so no id collides).
      const progress = await loadProgress(restored.db, { target: 100 });
      expect(progress.samples).toBe(before.predictions?.rows);
      const repo = await findRepository(restored.db, "o", "r");
      expect(repo?.dataCollection).toBe(true);
      const cycle = await startCycle(restored.db, {
        repositoryId: repo?.id as number,
        runKey: "after-restore",
        sha: "def",
        trigger: "shadow",
      });
      const stored = await finishCycle(restored.db, {
        cycleId: cycle.id,
        repositoryId: repo?.id as number,
        sha: "def",
        status: "completed",
        error: null,
        durationsMs: {},
        facts: null,
        results: Array.from({ length: 5 }, (_, i) => sampleResult(9, i)),
        storeData: true,
      });
      expect(stored).toEqual({ stored: true });
      const after = await tableChecksums(restored.db);
      expect(after.predictions?.rows).toBe((before.predictions?.rows ?? 0) + 5);
      expect(after.outcomes?.rows).toBe((before.outcomes?.rows ?? 0) + 5);
    } finally {
      await restored.close();
    }
  });
});
