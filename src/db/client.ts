/**
 * The database: node-postgres when DATABASE_URL is set, embedded PGlite otherwise (stored under the data dir).
 * Everything above this file sees one type, {@link Db}.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** A database or a transaction: queries take either. */
export type DbOrTx = Db | Tx;

export interface DbHandle {
  db: Db;
  kind: "postgres" | "pglite";
  /** Where the data lives: a redacted URL or a directory (or "memory"). */
  location: string;
  /** The node-postgres pool, for the few things that need one connection (advisory locks). */
  pool?: import("pg").Pool;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** Postgres connection string; PGlite when absent. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; "memory" for an in-memory database. */
  dataDir?: string | undefined;
  /** Apply migrations after opening (default true). */
  migrate?: boolean;
  poolSize?: number;
  /**
   * Postgres only: the pool's sessions commit without waiting for the WAL flush (synchronous_commit = off). A
   * committed transaction survives any crash of ours, but a crash of Postgres itself may lose the last few hundred
   * milliseconds of them; use it only for writes that can be lost and redone (the web's delivery log).
   */
  asyncCommit?: boolean;
  /** Postgres only: the sessions' application_name (shown in pg_stat_activity). */
  applicationName?: string;
}

export async function openDb(options: OpenDbOptions = {}): Promise<DbHandle> {
  const handle = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10, options)
    : await openPglite(options.dataDir ?? join(process.cwd(), ".odavl", "pgdata"));
  if (options.migrate !== false) {
    const { migrate } = await import("./migrate.js");
    await migrate(handle);
  }
  return handle;
}

async function openPostgres(
  url: string,
  max: number,
  o: Pick<OpenDbOptions, "asyncCommit" | "applicationName">,
): Promise<DbHandle> {
  const pg = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const pool = new pg.default.Pool({
    connectionString: url,
    max,
    ...(o.asyncCommit ? { options: "-c synchronous_commit=off" } : {}),
    ...(o.applicationName ? { application_name: o.applicationName } : {}),
  });
  // An idle client losing its connection (Postgres restart) must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  const db = drizzle(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    location: redactUrl(url),
    pool,
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string): Promise<DbHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let client: InstanceType<typeof PGlite>;
  if (dataDir === "memory") {
    client = new PGlite();
  } else {
    mkdirSync(dirname(dataDir), { recursive: true });
    client = new PGlite(dataDir);
  }
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    location: dataDir,
    async close() {
      await client.close();
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** Runs raw SQL and returns its rows, whichever driver is underneath (both return `{ rows }`). */
export async function queryRows<T extends Record<string, unknown>>(
  db: DbOrTx,
  query: import("drizzle-orm").SQL,
): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
