import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type DbHandle, openDb, queryRows } from "../../src/db/client.js";
import { MIGRATIONS_DIR, migrate } from "../../src/db/migrate.js";
import {
  createPostgresDatabase,
  createTestDb,
  dropPostgresDatabase,
  TEST_DB_KINDS,
  type TestDb,
} from "../helpers/db.js";
import { fillEveryTable, tableChecksums, tableColumns } from "../helpers/fill.js";

describe.each(TEST_DB_KINDS)("migrations on %s", (kind) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.cleanup();
    db = undefined;
  });

  it("creates every table of the schema", async () => {
    db = await createTestDb(kind);
    const rows = await queryRows<{ table_name: string }>(
      db.db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = rows.map((r) => r.table_name);
    expect(names).toEqual(
      expect.arrayContaining([
        "collection_errors",
        "consent_events",
        "cycles",
        "deliveries",
        "installations",
        "models",
        "outcomes",
        "predictions",
        "repositories",
        "recipe_overrides",
      ]),
    );
  });

  it("is idempotent: migrating twice changes nothing", async () => {
    db = await createTestDb(kind);
    const { migrate } = await import("../../src/db/migrate.js");
    await migrate(db);
    await migrate(db);
    const rows = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    const n = rows[0]?.n;
    expect(n).toBeGreaterThanOrEqual(1);
  });
});

describe.runIf(TEST_DB_KINDS.includes("postgres"))("concurrent migrators on Postgres", () => {
  it("three migrators started at once: the schema is applied once and all succeed", async () => {
    const url = await createPostgresDatabase();
    try {
      const handles = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: url, poolSize: 2 })));
      const r = await queryRows<{ n: number }>(
        (handles[0] as DbHandle).db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const { readFileSync } = await import("node:fs");
      const journal = JSON.parse(readFileSync("migrations/meta/_journal.json", "utf8")) as { entries: unknown[] };
      expect(r[0]?.n).toBe(journal.entries.length);
      await Promise.all(handles.map((h) => h.close()));
    } finally {
      await dropPostgresDatabase(url);
    }
  });
});

/**
 * A database at the previous migration, with data in every table, takes the newest migration: nothing stored
 * before is lost or changed, and the schema ends where a fresh database's does.
 */
describe.each(TEST_DB_KINDS)("upgrading from the previous migration on %s", (kind) => {
  let db: TestDb | undefined;
  let folder: string | undefined;
  afterEach(async () => {
    await db?.cleanup();
    db = undefined;
    if (folder) rmSync(folder, { recursive: true, force: true });
    folder = undefined;
  });

  it("keeps every row and checksum, and applies only the newest migration", async () => {
    const journal = readJournal(MIGRATIONS_DIR);
    expect(journal.entries.length, "needs at least two migrations").toBeGreaterThanOrEqual(2);
    folder = previousMigrations(MIGRATIONS_DIR);
    db = await createTestDb(kind, { migrate: false });
    await migrate(db, folder);
    await fillEveryTable(db.db);
    // The columns stored before the migration: those it adds are not part of what must be kept.
    const columns = await tableColumns(db.db);
    const before = await tableChecksums(db.db, columns);
    for (const [table, { rows }] of Object.entries(before)) expect(rows, `${table} has rows`).toBeGreaterThan(0);

    await migrate(db);

    // Every table that was there keeps its rows; tables the newest migration creates start empty.
    const after = await tableChecksums(db.db, columns);
    for (const [table, sums] of Object.entries(before)) expect(after[table], table).toEqual(sums);
    const newTables = [...newestSql().matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"([^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    for (const table of Object.keys(after)) {
      if (!(table in before)) expect(newTables, `${table} appeared without its migration`).toContain(table);
    }
    for (const table of newTables) expect(after[table]?.rows, `${table} exists and is empty`).toBe(0);
    const applied = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(applied[0]?.n).toBe(journal.entries.length);
    // The newest migration's objects exist: the indexes it creates.
    const newest = newestSql();
    const created = [...newest.matchAll(/CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?"([^"]+)"/g)].map((m) => m[1]);
    const indexes = await queryRows<{ indexname: string }>(
      db.db,
      sql`select indexname from pg_indexes where schemaname = 'public'`,
    );
    expect(indexes.map((r) => r.indexname)).toEqual(expect.arrayContaining(created));
  });
});

interface Journal {
  entries: { idx: number; tag: string }[];
}

function newestSql(): string {
  return readFileSync(join(MIGRATIONS_DIR, `${readJournal(MIGRATIONS_DIR).entries.at(-1)?.tag}.sql`), "utf8");
}

function readJournal(dir: string): Journal {
  return JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")) as Journal;
}

/** A copy of the migrations folder without its newest migration. */
function previousMigrations(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), "odavl-migrations-"));
  cpSync(dir, out, { recursive: true });
  const journal = readJournal(out);
  const newest = journal.entries.pop();
  rmSync(join(out, `${newest?.tag}.sql`));
  writeFileSync(join(out, "meta", "_journal.json"), JSON.stringify(journal));
  return out;
}
