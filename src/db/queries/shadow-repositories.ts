/**
 * Shadow repositories: read-only, registered and run by the operators from a source of their choosing, never
 * installed by their maintainers.
 */
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { repositories } from "../schema.js";
import { type RepositoryRow, storedConfig } from "./repositories.js";

class InstalledRepositoryError extends Error {
  readonly userFacing = true;
  constructor(readonly repository: string) {
    super(`${repository} is installed: its maintainers' configuration decides, it cannot be run in shadow mode`);
    this.name = "InstalledRepositoryError";
  }
}

/**
 * Registers (or updates) a shadow repository: read-only, run by the operators from `source`. An installed
 * repository is refused.
 */
export async function registerShadowRepository(
  db: DbOrTx,
  r: { owner: string; name: string; source: string; schedule?: string },
): Promise<RepositoryRow> {
  const [existing] = await db
    .select()
    .from(repositories)
    .where(and(eq(repositories.owner, r.owner), eq(repositories.name, r.name)));
  if (existing?.mode === "installed") throw new InstalledRepositoryError(`${r.owner}/${r.name}`);
  const config =
    r.schedule === undefined ? undefined : { ...storedConfig(existing ?? { config: null }), schedule: r.schedule };
  const [row] = await db
    .insert(repositories)
    .values({ owner: r.owner, name: r.name, mode: "shadow", source: r.source, ...(config ? { config } : {}) })
    .onConflictDoUpdate({
      target: [repositories.owner, repositories.name],
      set: { source: r.source, updatedAt: new Date(), ...(config ? { config } : {}) },
    })
    .returning();
  if (!row) throw new Error(`registerShadowRepository: no row for ${r.owner}/${r.name}`);
  return row;
}

export async function findShadowRepositories(db: DbOrTx): Promise<RepositoryRow[]> {
  return db.select().from(repositories).where(eq(repositories.mode, "shadow"));
}

/** Deletes a shadow repository and everything stored about it. */
export async function forgetShadowRepository(db: DbOrTx, owner: string, name: string): Promise<number | null> {
  const [row] = await db
    .delete(repositories)
    .where(and(eq(repositories.owner, owner), eq(repositories.name, name), eq(repositories.mode, "shadow")))
    .returning({ id: repositories.id });
  return row?.id ?? null;
}
