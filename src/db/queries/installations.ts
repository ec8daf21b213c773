/**
 * Installations and the repositories GitHub shows them: registered and forgotten as GitHub's events say, each
 * change in one transaction that locks its installation first, so concurrent events queue up instead of
 * deadlocking.
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "../client.js";
import { retryOnDeadlock } from "../deadlock.js";
import { deliveries, installations, repositories } from "../schema.js";
import { type RepositoryRow, setConsent } from "./repositories.js";

export interface InstallationInput {
  id: number;
  accountLogin: string;
  accountType: string;
}

async function upsertInstallation(db: DbOrTx, i: InstallationInput): Promise<void> {
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
  // The installation is locked first, as by every transaction that changes an installation's repositories:
  // concurrent installs, uninstalls and pushes queue up instead of deadlocking.
  return retryOnDeadlock(() =>
    db.transaction(async (tx) => {
      await lockInstallation(tx, installation.id);
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
        // An event about the repository says GitHub shows it to the app again: a pause (404, 403) ends.
        const set: Partial<typeof repositories.$inferInsert> = {
          githubId: r.githubId,
          installationId: installation.id,
          mode: "installed",
          pausedAt: null,
          pausedReason: null,
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
    }),
  );
}

/**
 * Deletes an installation and everything stored about its repositories (cycles, predictions, outcomes, consent
 * events cascade) in one transaction. The delivery that asked for it is kept, so a replay is recognised.
 * Returns the ids of the repositories deleted. Running it again deletes nothing.
 */
export async function forgetInstallation(db: Db, installationId: number, keepDelivery: string): Promise<number[]> {
  return retryOnDeadlock(() =>
    db.transaction(async (tx) => {
      await lockInstallation(tx, installationId);
      const removed = await tx
        .delete(repositories)
        .where(eq(repositories.installationId, installationId))
        .returning({ id: repositories.id });
      await tx.delete(installations).where(eq(installations.id, installationId));
      await tx
        .delete(deliveries)
        .where(and(eq(deliveries.installationId, installationId), ne(deliveries.id, keepDelivery)));
      return removed.map((r) => r.id);
    }),
  );
}

/** Deletes repositories removed from an installation, with everything stored about them, in one transaction. */
export async function forgetRepositories(
  db: Db,
  installationId: number,
  githubIds: readonly number[],
): Promise<number[]> {
  if (githubIds.length === 0) return [];
  return retryOnDeadlock(() =>
    db.transaction(async (tx) => {
      await lockInstallation(tx, installationId);
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
    }),
  );
}

/**
 * Locks an installation until the transaction ends: a transaction-level advisory lock on its id, which holds
 * whether its row exists or not (a row lock on a missing row locks nothing, so an uninstall that found no row
 * could interleave with an install that was creating it), then its row when it exists.
 */
async function lockInstallation(tx: DbOrTx, installationId: number): Promise<void> {
  // Any id a payload may carry (GitHub's are integers; a hostile one may be 1.5 or 2^63) keys the lock by its text.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`odavl-installation:${installationId}`}, 0))`);
  await tx.execute(sql`select id from installations where id = ${installationId} for update`);
}

/**
 * installation.suspend / unsuspend: records the suspension (registering the installation when it is not yet)
 * and returns the installation's repositories, whose schedules and jobs the caller stops or starts again.
 */
export async function setInstallationSuspended(
  db: Db,
  installation: InstallationInput,
  suspended: boolean,
): Promise<RepositoryRow[]> {
  return retryOnDeadlock(() =>
    db.transaction(async (tx) => {
      await lockInstallation(tx, installation.id);
      await upsertInstallation(tx, installation);
      await tx
        .update(installations)
        .set({ suspendedAt: suspended ? new Date() : null })
        .where(eq(installations.id, installation.id));
      return tx.select().from(repositories).where(eq(repositories.installationId, installation.id));
    }),
  );
}

/** Marks an installation suspended (GitHub answered 403 "suspended"); returns its repositories' ids. */
export async function markInstallationSuspended(db: Db, installationId: number): Promise<number[]> {
  await db
    .update(installations)
    .set({ suspendedAt: sql`coalesce(${installations.suspendedAt}, now())` })
    .where(eq(installations.id, installationId));
  const rows = await db
    .select({ id: repositories.id })
    .from(repositories)
    .where(eq(repositories.installationId, installationId));
  return rows.map((r) => r.id);
}

/** True when the installation is suspended. */
export async function installationSuspended(db: Db, installationId: number): Promise<boolean> {
  const [row] = await db
    .select({ suspendedAt: installations.suspendedAt })
    .from(installations)
    .where(eq(installations.id, installationId));
  return row?.suspendedAt != null;
}
