/**
 * retryOnDeadlock against a real deadlock: two transactions lock two installation rows in opposite order, Postgres
 * rolls one back (40P01), and the retry runs it again, so both commit.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { retryOnDeadlock } from "../../src/db/deadlock.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

// Needs a Postgres server: PGlite serves one connection at a time, so two transactions cannot deadlock there.
// `npm test` and CI start one (DATABASE_URL), so this runs there; only a bare `vitest run` without one skips it.
describe.skipIf(!process.env.DATABASE_URL)("retrying a transaction Postgres rolled back to break a deadlock", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb("postgres");
    await db.db.execute(
      sql`insert into installations (id, account_login, account_type) values (1, 'a', 'User'), (2, 'b', 'User')`,
    );
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it("runs the rolled-back one again, and both commit", async () => {
    let attempts = 0;
    let bothLockedFirst: () => void = () => {};
    let locked = 0;
    const ready = new Promise<void>((resolve) => {
      bothLockedFirst = resolve;
    });
    const cross = (first: number, second: number, login: string) =>
      retryOnDeadlock(() =>
        db.db.transaction(async (tx) => {
          attempts++;
          await tx.execute(sql`update installations set account_login = ${login} where id = ${first}`);
          if (++locked === 2) bothLockedFirst();
          await ready;
          await tx.execute(sql`update installations set account_login = ${login} where id = ${second}`);
        }),
      );
    await Promise.all([cross(1, 2, "x"), cross(2, 1, "y")]);
    // One of the two first attempts was the deadlock's victim and ran once more.
    expect(attempts).toBe(3);
    const rows = await queryRows<{ account_login: string }>(db.db, sql`select account_login from installations`);
    // The retried transaction committed last, so both rows hold its login.
    expect(new Set(rows.map((r) => r.account_login)).size).toBe(1);
  }, 30_000);
});
