/**
 * A database with rows in every table (through the product's own queries where it has them), and an
 * order-independent checksum of each table's contents: for upgrade and backup/restore tests.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../src/db/client.js";
import { finishCycle, startCycle } from "../../src/db/queries/cycles.js";
import { recordApplyClick, recordFixPullRequest } from "../../src/db/queries/fix-labels.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import { sampleResult } from "./samples.js";

/** Rows in every table, through the product's own queries where it has them. */
export async function fillEveryTable(db: Db): Promise<void> {
  await db.execute(sql`insert into installations (id, account_login) values (42, 'o')`);
  // Plain SQL: the database may be at an older migration than the schema the product's queries return.
  const [repo] = await queryRows<{ id: number }>(
    db,
    sql`insert into repositories (owner, name, mode, github_id, installation_id)
        values ('o', 'r', 'installed', 7, 42) returning id`,
  );
  if (!repo) throw new Error("fillEveryTable: no repository row");
  await setConsent(db, repo.id, "dataCollection", true, { source: "operator", actor: "t" });
  for (let k = 0; k < 3; k++) {
    const cycle = await startCycle(db, { repositoryId: repo.id, runKey: `k${k}`, sha: "abc", trigger: "shadow" });
    await finishCycle(db, {
      cycleId: cycle.id,
      repositoryId: repo.id,
      sha: "abc",
      status: "completed",
      error: null,
      durationsMs: { total: 1 },
      facts: null,
      results: Array.from({ length: 20 }, (_, i) => sampleResult(k, i)),
      storeData: true,
    });
  }
  await db.execute(sql`insert into deliveries (id, event, action, result) values ('d1', 'push', null, 'enqueued')`);
  await db.execute(sql`insert into collection_errors (repository, ref, error) values ('o/r', 'main', 'boom')`);
  // Tables newer than the database being filled (an upgrade test fills the previous schema) are left out.
  if (await tableExists(db, "recipe_overrides")) {
    await db.execute(sql`insert into recipe_overrides (recipe_id, actor) values ('eslint/eqeqeq', 'operator')`);
  }
  if (await tableExists(db, "fix_pull_requests")) {
    const click = { repositoryId: repo.id, checkRunId: 9, headSha: "abc", recipeId: "eslint/eqeqeq" };
    if (!(await recordApplyClick(db, { ...click, deliveryId: "d-apply" }))) throw new Error("fillEveryTable: no click");
    const stored = await recordFixPullRequest(db, {
      repositoryId: repo.id,
      number: 5,
      branch: "odavl/eslint-eqeqeq-abc",
      base: "main",
      title: "fix: eqeqeq",
      recipeId: "eslint/eqeqeq",
      cycleId: null,
      patchHash: "p1",
      headSha: "abc",
      commitSha: "def",
      trust: 0.9,
      tier: "review-suggested",
      origin: "apply",
    });
    if (!stored) throw new Error("fillEveryTable: no fix pull request");
  }
  await db.execute(sql`insert into models (version, kind, path, feature_schema_version, metrics, card)
    values ('v0', 'logistic', 'models/v0.onnx', 2, '{"auc": 0.5}', '{}')`);
}

async function tableExists(db: Db, table: string): Promise<boolean> {
  const [row] = await queryRows<{ present: boolean }>(db, sql`select to_regclass(${table}) is not null as present`);
  return row?.present ?? false;
}

/** Each public table's columns, in order (to checksum the same columns after a migration added some). */
export async function tableColumns(db: Db): Promise<Record<string, string[]>> {
  const rows = await queryRows<{ table_name: string; column_name: string }>(
    db,
    sql`select table_name, column_name from information_schema.columns c
        where table_schema = 'public'
          and exists (select 1 from information_schema.tables t where t.table_schema = 'public'
                      and t.table_name = c.table_name and t.table_type = 'BASE TABLE')
        order by table_name, ordinal_position`,
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) out[r.table_name] = [...(out[r.table_name] ?? []), r.column_name];
  return out;
}

/**
 * Row count and an order-independent checksum of each public table's contents: of every column, or of the
 * columns given (a migration's new columns are not part of what was stored before it).
 */
export async function tableChecksums(
  db: Db,
  columns?: Record<string, string[]>,
): Promise<Record<string, { rows: number; md5: string }>> {
  const tables = await queryRows<{ table_name: string }>(
    db,
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const { table_name } of tables) {
    const t = sql.identifier(table_name);
    const only = columns?.[table_name];
    const row = only
      ? sql`row(${sql.join(
          only.map((c) => sql`x.${sql.identifier(c)}`),
          sql`, `,
        )})::text`
      : sql`x::text`;
    const [r] = await queryRows<{ rows: number; md5: string | null }>(
      db,
      sql`select count(*)::int as rows, md5(coalesce(string_agg(${row}, '|' order by ${row}), '')) as md5 from ${t} x`,
    );
    out[table_name] = { rows: r?.rows ?? 0, md5: r?.md5 ?? "" };
  }
  return out;
}
