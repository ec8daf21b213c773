import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type DbHandle, openDb, queryRows } from "../../src/db/client.js";
import {
  createPostgresDatabase,
  createTestDb,
  dropPostgresDatabase,
  TEST_DB_KINDS,
  type TestDb,
} from "../helpers/db.js";

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
