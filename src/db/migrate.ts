/** Applying the committed migrations (migrations/, written by drizzle-kit from src/db/schema.ts). */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../migrations");

/** What a migration needs of an open database (a DbHandle of ./client.ts). */
interface MigrationTarget {
  kind: "postgres" | "pglite";
  db: unknown;
  pool?: import("pg").Pool;
}

/** Key of the advisory lock that serialises migrators: several processes may start at once; one applies. */
const MIGRATION_LOCK_KEY = 0x0da71;

/**
 * Applies the committed migrations. On Postgres the run holds a session advisory lock on one connection, so
 * concurrent migrators wait for the first and then find nothing left to apply.
 */
export async function migrate(handle: MigrationTarget, migrationsFolder = MIGRATIONS_DIR): Promise<void> {
  if (handle.kind === "pglite") {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the concrete PGlite database type.
    await run(handle.db as any, { migrationsFolder });
    return;
  }
  if (!handle.pool) throw new Error("migrate: a Postgres handle without its pool");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate: run } = await import("drizzle-orm/node-postgres/migrator");
  const client = await handle.pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await run(drizzle(client), { migrationsFolder });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
