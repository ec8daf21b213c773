import { and, eq, ne, sql } from "drizzle-orm";
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from "../../engine/repo-config.js";
import type { Db, DbOrTx } from "../client.js";
import { consentEvents, repositories } from "../schema.js";

export type RepositoryRow = typeof repositories.$inferSelect;

export interface RepositoryIdentity {
  owner: string;
  name: string;
  mode: "installed" | "shadow";
  githubId?: number | null;
  installationId?: number | null;
  source?: string | null;
  defaultBranch?: string;
}

/** Inserts the repository or updates what may change about it; returns the row. Idempotent. */
export async function upsertRepository(db: DbOrTx, repo: RepositoryIdentity): Promise<RepositoryRow> {
  const set: Partial<typeof repositories.$inferInsert> = { updatedAt: new Date() };
  if (repo.githubId !== undefined) set.githubId = repo.githubId;
  if (repo.installationId !== undefined) set.installationId = repo.installationId;
  if (repo.source !== undefined) set.source = repo.source;
  if (repo.defaultBranch !== undefined) set.defaultBranch = repo.defaultBranch;
  const [row] = await db
    .insert(repositories)
    .values({
      owner: repo.owner,
      name: repo.name,
      mode: repo.mode,
      githubId: repo.githubId ?? null,
      installationId: repo.installationId ?? null,
      source: repo.source ?? null,
      defaultBranch: repo.defaultBranch ?? "main",
    })
    .onConflictDoUpdate({ target: [repositories.owner, repositories.name], set })
    .returning();
  if (!row) throw new Error(`upsertRepository: no row returned for ${repo.owner}/${repo.name}`);
  return row;
}

export async function findRepository(db: DbOrTx, owner: string, name: string): Promise<RepositoryRow | undefined> {
  const [row] = await db
    .select()
    .from(repositories)
    .where(and(eq(repositories.owner, owner), eq(repositories.name, name)));
  return row;
}

export async function findRepositoryById(db: DbOrTx, id: number): Promise<RepositoryRow | undefined> {
  const [row] = await db.select().from(repositories).where(eq(repositories.id, id));
  return row;
}

export type ConsentField = "dataCollection" | "autoApply";

/**
 * Sets a consent flag and records the change as a consent event (who, when, source). A call that does not
 * change the value records nothing. Runs in one statement pair inside the caller's transaction when given one.
 */
export async function setConsent(
  db: DbOrTx,
  repositoryId: number,
  field: ConsentField,
  value: boolean,
  by: { source: string; actor: string },
): Promise<boolean> {
  const column = field === "dataCollection" ? repositories.dataCollection : repositories.autoApply;
  const updated = await db
    .update(repositories)
    .set({ [field]: value, updatedAt: new Date() })
    .where(and(eq(repositories.id, repositoryId), sql`${column} is distinct from ${value}`))
    .returning({ id: repositories.id });
  if (updated.length === 0) return false;
  await db.insert(consentEvents).values({ repositoryId, field, value, source: by.source, actor: by.actor });
  return true;
}

/** The repository's last valid configuration (the defaults when it never had one). */
export function storedConfig(repo: Pick<RepositoryRow, "config">): RepoConfig {
  if (repo.config === null) return DEFAULT_REPO_CONFIG;
  const parsed = repoConfigSchema.safeParse(repo.config);
  return parsed.success ? parsed.data : DEFAULT_REPO_CONFIG;
}

/**
 * Stores a new valid configuration and its consent in one transaction; each consent change becomes a consent
 * event. Returns the fields whose consent changed.
 */
export async function saveRepoConfig(
  db: Db,
  repositoryId: number,
  config: RepoConfig,
  configSha: string | null,
  actor: string,
): Promise<("dataCollection" | "autoApply")[]> {
  return db.transaction(async (tx) => {
    await tx
      .update(repositories)
      .set({ config, configSha, updatedAt: new Date() })
      .where(eq(repositories.id, repositoryId));
    const changed: ("dataCollection" | "autoApply")[] = [];
    for (const field of ["dataCollection", "autoApply"] as const) {
      if (await setConsent(tx, repositoryId, field, config[field], { source: "config", actor })) changed.push(field);
    }
    return changed;
  });
}

export async function listRepositories(db: DbOrTx): Promise<RepositoryRow[]> {
  return db.select().from(repositories);
}

/** GitHub's default branch can change; the worker records what the API says. */
export async function setDefaultBranch(db: DbOrTx, repositoryId: number, branch: string): Promise<void> {
  await db
    .update(repositories)
    .set({ defaultBranch: branch, updatedAt: new Date() })
    .where(and(eq(repositories.id, repositoryId), ne(repositories.defaultBranch, branch)));
}

/** GitHub no longer shows the repository to the app (404): it is paused until an event about it arrives. */
export async function pauseRepository(db: Db, repositoryId: number, reason: string): Promise<void> {
  await db
    .update(repositories)
    .set({ pausedAt: new Date(), pausedReason: reason })
    .where(eq(repositories.id, repositoryId));
}
