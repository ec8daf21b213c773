/**
 * A database with rows in every table (through the product's own queries where it has them), and an
 * order-independent checksum of each table's contents: for upgrade and backup/restore tests.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../src/db/client.js";
import { finishCycle, startCycle } from "../../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import { sampleResult } from "./samples.js";

/** Rows in every table, through the product's own queries where it has them. */
export async function fillEveryTable(db: Db): Promise<void> {
  await db.execute(sql`insert into installations (id, account_login) values (42, 'o')`);
  const repo = await upsertRepository(db, {
    owner: "o",
    name: "r",
    mode: "installed",
    githubId: 7,
    installationId: 42,
  });
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
  const [overrides] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass('recipe_overrides') is not null as present`,
  );
  if (overrides?.present) {
    await db.execute(sql`insert into recipe_overrides (recipe_id, actor) values ('eslint/eqeqeq', 'operator')`);
  }
  await db.execute(sql`insert into models (version, kind, path, feature_schema_version, metrics, card)
    values ('v0', 'logistic', 'models/v0.onnx', 2, '{"auc": 0.5}', '{}')`);
}

/** Row count and an order-independent checksum of each public table's contents. */
export async function tableChecksums(db: Db): Promise<Record<string, { rows: number; md5: string }>> {
  const tables = await queryRows<{ table_name: string }>(
    db,
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const { table_name } of tables) {
    const t = sql.identifier(table_name);
    const [r] = await queryRows<{ rows: number; md5: string | null }>(
      db,
      sql`select count(*)::int as rows, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as md5 from ${t} x`,
    );
    out[table_name] = { rows: r?.rows ?? 0, md5: r?.md5 ?? "" };
  }
  return out;
}
