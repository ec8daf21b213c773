/**
 * What the GitHub side stores: deliveries, installations and their repositories, each repository's last valid
 * `.github/odavl.yml`. Queries take the database (or a transaction) first.
 */
import { and, eq, getTableColumns, inArray, ne, sql } from "drizzle-orm";
import { type Db, type DbOrTx, queryRows } from "../db/client.js";
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

/** What a repository event says about its repository: it is registered as this when the stored rows agree. */
export interface ExpectedRepository {
  installation: InstallationInput;
  repository: InstalledRepositoryInput;
}

export interface DeliveryReceipt {
  first: boolean;
  handled: boolean;
  /** The event's repository row when it is registered exactly as the event says (nothing to update); else null. */
  repository: RepositoryRow | null;
  /** The job an earlier receipt of this delivery queued, if any. */
  earlierJobId: string | null;
}

const REPOSITORY_COLUMNS = Object.entries(getTableColumns(repositories));

/**
 * The hot path of every webhook, in one statement (one round trip, no row lock but the delivery's own): records
 * the delivery (insert … on conflict do nothing), says whether an earlier receipt of it finished (as
 * {@link recordDelivery}), and reads the event's repository when the stored repository and installation already
 * agree with the event (same GitHub id, name, installation, account and default branch, installed). A null
 * repository means the event has something to register: {@link registerRepositories} does that.
 */
export async function receiveDelivery(
  db: DbOrTx,
  d: DeliveryInput,
  expected: ExpectedRepository | null,
): Promise<DeliveryReceipt> {
  const match = expected
    ? sql`r.github_id = ${expected.repository.githubId} and r.owner = ${expected.repository.owner}
        and r.name = ${expected.repository.name} and r.installation_id = ${expected.installation.id}
        and r.mode = 'installed' and r.paused_at is null
        ${expected.repository.defaultBranch === undefined ? sql`` : sql`and r.default_branch = ${expected.repository.defaultBranch}`}
        and i.account_login = ${expected.installation.accountLogin} and i.account_type = ${expected.installation.accountType}`
    : sql`false`;
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`with inserted as (
          insert into deliveries (id, event, action, installation_id, repository, result)
          values (${d.id}, ${d.event}, ${d.action}, ${d.installationId}, ${d.repository}, ${DELIVERY_RECEIVED})
          on conflict (id) do nothing
          returning 1
        )
        select (select count(*) from inserted)::int as odavl_inserted, earlier.result as odavl_earlier,
          earlier.job_id as odavl_earlier_job, r.*
        from (select 1) as one
        left join deliveries earlier on earlier.id = ${d.id}
        left join lateral (
          select r.* from repositories r join installations i on i.id = r.installation_id where ${match} limit 1
        ) r on true`,
  );
  if (!row) throw new Error(`receiveDelivery: no row for delivery ${d.id}`);
  // The statement's snapshot predates its own insert: "earlier" is the row of an earlier receipt, if any.
  const first = Number(row.odavl_inserted) > 0;
  const earlier = row.odavl_earlier as string | null;
  return {
    first,
    handled: !first && earlier !== null && earlier !== DELIVERY_RECEIVED,
    repository: row.id === null || row.id === undefined ? null : repositoryFromRow(row),
    earlierJobId: (row.odavl_earlier_job as string | null | undefined) ?? null,
  };
}

function repositoryFromRow(raw: Record<string, unknown>): RepositoryRow {
  const out: Record<string, unknown> = {};
  for (const [key, column] of REPOSITORY_COLUMNS) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as RepositoryRow;
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

/** Postgres's deadlock and serialization failures: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);

function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string") return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Runs a transaction again (up to five attempts in all) when Postgres rolled it back to break a deadlock, after
 * a random wait that doubles each time, so that the transactions that met do not meet again in step. Deadlocks
 * remain possible between installations whose repositories move between them (GitHub transfers, or payloads
 * that say so), which lock the same repository rows in different orders.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= attempts || state === undefined || !RETRYABLE.has(state)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * Math.random()));
    }
  }
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

/** GitHub no longer shows the repository to the app (404): it is paused until an event about it arrives. */
export async function pauseRepository(db: Db, repositoryId: number, reason: string): Promise<void> {
  await db
    .update(repositories)
    .set({ pausedAt: new Date(), pausedReason: reason })
    .where(eq(repositories.id, repositoryId));
}
