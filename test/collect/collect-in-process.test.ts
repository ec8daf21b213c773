/**
 * `odavl collect --in-process`: the cycles run in this process, so each cycle's line also reports this process's
 * JavaScript heap against its limit (an operator watching a long run sees a heap that climbs from cycle to cycle).
 * A generated repository, the real sandbox, real Postgres.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { odavl } from "../helpers/cli.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { buildDemo } from "../queue/helpers.js";

describe("odavl collect --in-process", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), "odavl-collect-inproc-"));
    buildDemo(join(dir, "acme__alpha"));
  });

  afterAll(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports each cycle with the heap it leaves behind", async () => {
    const listFile = join(dir, "list.txt");
    writeFileSync(listFile, `${join(dir, "acme__alpha")}\n`);
    const run = await odavl(
      { DATABASE_URL: db.url as string },
      "collect",
      listFile,
      "--in-process",
      "--recipes",
      "biome/use-const",
      "--tests",
      "none",
    );
    expect(run.code, run.stderr).toBe(0);
    const line = run.stderr.split("\n").find((l) => l.includes("acme/alpha:"));
    expect(line).toMatch(/acme\/alpha: \d+ candidates, \d+ verified, completed in \d+ s; heap (\d+) of (\d+) MiB/);
    const [, used, limit] = /heap (\d+) of (\d+) MiB/.exec(line ?? "") ?? [];
    expect(Number(used)).toBeGreaterThan(0);
    expect(Number(used)).toBeLessThan(Number(limit));
  });
});
