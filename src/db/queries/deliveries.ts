/**
 * The delivery log: each webhook delivery GitHub sent, recorded once, and the result of handling it. A repeat of a
 * delivery whose handling finished changes nothing.
 */
import { eq, getTableColumns, sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../client.js";
import { deliveries, repositories } from "../schema.js";
import type { InstallationInput, InstalledRepositoryInput } from "./installations.js";
import type { RepositoryRow } from "./repositories.js";

/** Result of a delivery still being handled (or whose handler died): a repeat is handled again. */
const DELIVERY_RECEIVED = "received";

export interface DeliveryInput {
  id: string;
  event: string;
  action: string | null;
  installationId: number | null;
  repository: string | null;
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
 * the delivery (insert … on conflict do nothing), says whether an earlier receipt of it finished (a repeat of a
 * delivery whose handling did not finish is handled again; every handler is idempotent, so a concurrent repeat is
 * harmless), and reads the event's repository when the stored repository and installation already agree with the
 * event (same GitHub id, name, installation, account and default branch, installed). A null repository means the
 * event has something to register: registerRepositories (./installations.ts) does that.
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
