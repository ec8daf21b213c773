/**
 * Databases for tests: a fresh PGlite in memory, or a fresh database on the Postgres server of DATABASE_URL
 * (created per call, dropped at cleanup). Tests that need SQL only run against both.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type DbHandle, openDb } from "../../src/db/client.js";

export type TestDbKind = "pglite" | "postgres";

export const TEST_DB_KINDS: TestDbKind[] = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export interface TestDb extends DbHandle {
  url: string | null;
  cleanup(): Promise<void>;
}

export async function createTestDb(kind: TestDbKind, options: { migrate?: boolean } = {}): Promise<TestDb> {
  if (kind === "pglite") {
    const handle = await openDb({ dataDir: "memory", migrate: options.migrate !== false });
    return { ...handle, url: null, cleanup: () => handle.close() };
  }
  const url = await createPostgresDatabase();
  const handle = await openDb({ databaseUrl: url, migrate: options.migrate !== false, poolSize: 5 });
  return {
    ...handle,
    url,
    async cleanup() {
      await handle.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** A new empty database on the DATABASE_URL server; returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("createPostgresDatabase: DATABASE_URL is not set (run the tests with npm test)");
  const name = `odavl_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return;
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
