/** Opening Postgres: the web's delivery-log pool commits without waiting for the WAL flush; the others wait. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, queryRows } from "../../src/db/client.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../helpers/db.js";

describe("openDb on Postgres", () => {
  let url: string;
  beforeAll(async () => {
    url = await createPostgresDatabase();
  });
  afterAll(async () => {
    await dropPostgresDatabase(url);
  });

  it("gives an asyncCommit pool's sessions synchronous_commit off and their name; a default pool keeps on", async () => {
    const log = await openDb({
      databaseUrl: url,
      migrate: false,
      asyncCommit: true,
      applicationName: "odavl-test-log",
    });
    const main = await openDb({ databaseUrl: url, migrate: false });
    try {
      // Several sessions: every connection of the pool has the setting, not only the first.
      const held = await Promise.all([1, 2, 3].map(() => log.pool?.connect()));
      try {
        for (const client of held) {
          const r = await client?.query<{ sync: string; name: string }>(
            "select current_setting('synchronous_commit') as sync, current_setting('application_name') as name",
          );
          expect(r?.rows[0]).toEqual({ sync: "off", name: "odavl-test-log" });
        }
      } finally {
        for (const client of held) client?.release();
      }
      expect(await queryRows(main.db, sql`select current_setting('synchronous_commit') as sync`)).toEqual([
        { sync: "on" },
      ]);
      // Writes through the pool are visible to the others at once (only their flush is deferred).
      await log.db.execute(sql`create table t (id int primary key)`);
      await log.db.execute(sql`insert into t values (1)`);
      expect(await queryRows(main.db, sql`select id from t`)).toEqual([{ id: 1 }]);
    } finally {
      await log.close();
      await main.close();
    }
  });
});
