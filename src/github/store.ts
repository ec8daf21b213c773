/**
 * What the GitHub side stores: deliveries, installations and their repositories, each repository's last valid
 * `.github/odavl.yml`. Queries take the database (or a transaction) first.
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "../db/client.js";
import { type RepositoryRow, setConsent } from "../db/queries/repositories.js";
import { cycles, deliveries, installations, repositories } from "../db/schema.js";
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from "../engine/repo-config.js";

/** Result of a delivery still being handled (or whose handler died): a repeat is handled again. */
export const DELIVERY_RECEIVED = "received";

export interface DeliveryInput {
  id: string;
  event: string;
  action: string | null;
  installationId: number | null;
  repository: string | null;
}

/**
 * Records a delivery once. `handled` is true when an earlier receipt of the same delivery finished: the repeat
 * must change nothing. A repeat of a delivery whose handling did not finish is handled again; every handler is
 * idempotent, so a concurrent repeat is harmless.
 */
export async function recordDelivery(db: DbOrTx, d: DeliveryInput): Promise<{ first: boolean; handled: boolean }> {
  const inserted = await db
    .insert(deliveries)
    .values({ ...d, result: DELIVERY_RECEIVED })
    .onConflictDoNothing({ target: deliveries.id })
    .returning({ id: deliveries.id });
  if (inserted.length > 0) return { first: true, handled: false };
  const [row] = await db.select({ result: deliveries.result }).from(deliveries).where(eq(deliveries.id, d.id));
  return { first: false, handled: row !== undefined && row.result !== DELIVERY_RECEIVED };
}

export async function finishDelivery(
  db: DbOrTx,
  id: string,
  result: string,
  jobId: string | null = null,
): Promise<void> {
  await db.update(deliveries).set({ result, jobId }).where(eq(deliveries.id, id));
}

export interface InstallationInput {
  id: number;
  accountLogin: string;
  accountType: string;
}

export async function upsertInstallation(db: DbOrTx, i: InstallationInput): Promise<void> {
  await db
    .insert(installations)
    .values(i)
    .onConflictDoUpdate({
      target: installations.id,
      set: { accountLogin: i.accountLogin, accountType: i.accountType },
    });
}

export interface InstalledRepositoryInput {
  githubId: number;
  owner: string;
  name: string;
  defaultBranch?: string;
}

/**
 * Registers repositories of an installation. Idempotent; follows renames (GitHub's id is the identity). A
 * repository the operators ran in shadow mode becomes installed, and its consent starts again from off: consent
 * given for shadow runs is not the maintainers' consent.
 */
export async function registerRepositories(
  db: Db,
  installation: InstallationInput,
  repos: readonly InstalledRepositoryInput[],
): Promise<RepositoryRow[]> {
  return db.transaction(async (tx) => {
    await upsertInstallation(tx, installation);
    const rows: RepositoryRow[] = [];
    for (const r of repos) {
      const [renamed] = await tx
        .update(repositories)
        .set({ owner: r.owner, name: r.name, installationId: installation.id, updatedAt: new Date() })
        .where(
          and(
            eq(repositories.githubId, r.githubId),
            sql`(${repositories.owner}, ${repositories.name}) is distinct from (${r.owner}, ${r.name})`,
          ),
        )
        .returning();
      const [previous] = await tx
        .select({ mode: repositories.mode })
        .from(repositories)
        .where(and(eq(repositories.owner, r.owner), eq(repositories.name, r.name)));
      const set: Partial<typeof repositories.$inferInsert> = {
        githubId: r.githubId,
        installationId: installation.id,
        mode: "installed",
        updatedAt: new Date(),
      };
      if (r.defaultBranch !== undefined) set.defaultBranch = r.defaultBranch;
      const [row] = await tx
        .insert(repositories)
        .values({
          owner: r.owner,
          name: r.name,
          mode: "installed",
          githubId: r.githubId,
          installationId: installation.id,
          defaultBranch: r.defaultBranch ?? "main",
        })
        .onConflictDoUpdate({ target: [repositories.owner, repositories.name], set })
        .returning();
      if (!row) throw new Error(`registerRepositories: no row for ${r.owner}/${r.name}`);
      if (previous?.mode === "shadow" && !renamed) {
        await tx.update(repositories).set({ config: null, configSha: null }).where(eq(repositories.id, row.id));
        for (const field of ["dataCollection", "autoApply"] as const) {
          await setConsent(tx, row.id, field, false, { source: "install", actor: installation.accountLogin });
        }
      }
      rows.push(row);
    }
    return rows;
  });
}

/**
 * Deletes an installation and everything stored about its repositories (cycles, predictions, outcomes, consent
 * events cascade) in one transaction. The delivery that asked for it is kept, so a replay is recognised.
 * Returns the ids of the repositories deleted. Running it again deletes nothing.
 */
export async function forgetInstallation(db: Db, installationId: number, keepDelivery: string): Promise<number[]> {
  return db.transaction(async (tx) => {
    const removed = await tx
      .delete(repositories)
      .where(eq(repositories.installationId, installationId))
      .returning({ id: repositories.id });
    await tx.delete(installations).where(eq(installations.id, installationId));
    await tx
      .delete(deliveries)
      .where(and(eq(deliveries.installationId, installationId), ne(deliveries.id, keepDelivery)));
    return removed.map((r) => r.id);
  });
}

/** Deletes repositories removed from an installation, with everything stored about them, in one transaction. */
export async function forgetRepositories(
  db: Db,
  installationId: number,
  githubIds: readonly number[],
): Promise<number[]> {
  if (githubIds.length === 0) return [];
  return db.transaction(async (tx) => {
    const removed = await tx
      .delete(repositories)
      .where(and(eq(repositories.installationId, installationId), inArray(repositories.githubId, [...githubIds])))
      .returning({ id: repositories.id, owner: repositories.owner, name: repositories.name });
    if (removed.length > 0) {
      await tx.delete(deliveries).where(
        and(
          eq(deliveries.installationId, installationId),
          inArray(
            deliveries.repository,
            removed.map((r) => `${r.owner}/${r.name}`),
          ),
        ),
      );
    }
    return removed.map((r) => r.id);
  });
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

export class InstalledRepositoryError extends Error {
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

/**
 * Records a cycle as failed when its job failed for good outside the engine (checkout, GitHub): a cycle the
 * engine already finished keeps its status and its stored results.
 */
export async function markCycleFailed(db: DbOrTx, cycleId: string, error: string): Promise<void> {
  await db
    .update(cycles)
    .set({ status: "failed", error: error.slice(0, 2000), finishedAt: new Date() })
    .where(and(eq(cycles.id, cycleId), eq(cycles.status, "running")));
}
