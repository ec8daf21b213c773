/**
 * The collection ledger: recipes a completed shadow cycle ran at a commit are appended to a file committed beside
 * the dataset, so collection on a fresh machine (an empty database) resumes instead of starting again. Real
 * in-process collection on a generated repository, real sandbox, real PGlite.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CollectEvent, collect } from "../../src/collect/collect.js";
import { LedgerError, openLedger } from "../../src/collect/ledger.js";
import { readList } from "../../src/collect/list.js";
import { DEFAULT_THRESHOLDS } from "../../src/model/tiers.js";
import { selectRecipes } from "../../src/recipes/index.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { engineDeps, removeTempDirs, smallProject, tempDir, writeRepo } from "../helpers/engine.js";

afterAll(() => removeTempDirs());

describe("the collection ledger file", () => {
  it("is empty when missing, appends what is recorded once, and reads back on reopening", async () => {
    const path = join(tempDir(), "data", "ledger.tsv");
    const ledger = openLedger(path);
    expect(ledger.done("o/r", "abc1234")).toEqual(new Set());
    await ledger.record("o/r", "abc1234", ["eslint/no-var", "biome/use-const"]);
    await ledger.record("o/r", "abc1234", ["eslint/no-var"]);
    expect(readFileSync(path, "utf8")).toBe("o/r\tabc1234\tbiome/use-const\no/r\tabc1234\teslint/no-var\n");
    const again = openLedger(path);
    expect(again.done("o/r", "abc1234")).toEqual(new Set(["eslint/no-var", "biome/use-const"]));
    expect(again.done("o/r", "def5678")).toEqual(new Set());
  });

  it("refuses a malformed line, naming the file and line", () => {
    const path = join(tempDir(), "ledger.tsv");
    writeFileSync(path, "o/r\tabc1234\teslint/no-var\no/r abc1234 eslint/eqeqeq\n");
    expect(() => openLedger(path)).toThrow(LedgerError);
    expect(() => openLedger(path)).toThrow(`${path}:2: expected "owner/name<TAB>commit sha<TAB>recipe id"`);
  });
});

describe("collection resumes from the ledger", () => {
  let first: TestDb | undefined;
  let second: TestDb | undefined;
  afterEach(async () => {
    await first?.cleanup();
    await second?.cleanup();
  });

  it("a second machine (empty database) with the ledger runs no cycle; without it, it runs them again", async () => {
    const dir = tempDir();
    const repoDir = join(dir, "acme__tiny");
    const sha = writeRepo(repoDir, smallProject("node -e 0"));
    const listFile = join(dir, "list.txt");
    writeFileSync(listFile, `${repoDir}\n`);
    const entries = readList(listFile);
    const ledgerPath = join(dir, "ledger.tsv");
    const recipes = selectRecipes({ enabled: ["biome/use-const", "eslint/eqeqeq"] });
    const run = async (db: TestDb, withLedger: boolean) => {
      const events: CollectEvent["kind"][] = [];
      const result = await collect(entries, db.db, engineDeps(db.db), {
        recipes,
        thresholds: DEFAULT_THRESHOLDS,
        concurrency: 1,
        cycleTimeoutMs: 300_000,
        recipesPerCycle: 12,
        scopes: ["all"],
        maxFileCandidatesPerRecipe: 1,
        testScopes: ["all"],
        installTimeoutMs: 60_000,
        ...(withLedger ? { ledger: openLedger(ledgerPath) } : {}),
        onEvent: (e) => {
          events.push(e.kind);
        },
      });
      return { result, events };
    };
    first = await createTestDb("pglite");
    const one = await run(first, true);
    expect(one.result).toMatchObject({ cycles: 1, errors: 0 });
    // eqeqeq finds nothing in the fixture: it leaves no sample, yet it is recorded as run.
    expect(readFileSync(ledgerPath, "utf8")).toBe(
      `acme/tiny\t${sha}\tbiome/use-const\nacme/tiny\t${sha}\teslint/eqeqeq\n`,
    );
    second = await createTestDb("pglite");
    const resumed = await run(second, true);
    expect(resumed.result).toMatchObject({ cycles: 0, skipped: 1 });
    expect(resumed.events).toEqual(["start", "skip"]);
    const withoutLedger = await run(second, false);
    expect(withoutLedger.result).toMatchObject({ cycles: 1 });
  });
});

describe("a collection cycle's time limit", () => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.cleanup();
  });

  it("stops the cycle at its limit, even once garbage collection has run", async () => {
    // The limit's timer must not be collected: Node drops a timeout signal held only through AbortSignal.any.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const dir = tempDir();
    const repoDir = join(dir, "acme__slow");
    writeRepo(repoDir, smallProject("node -e 0"));
    const listFile = join(dir, "list.txt");
    writeFileSync(listFile, `${repoDir}\tsleep 120\n`);
    db = await createTestDb("pglite");
    const collecting = setInterval(gc, 50);
    const t0 = performance.now();
    try {
      const result = await collect(readList(listFile), db.db, engineDeps(db.db), {
        recipes: selectRecipes({ enabled: ["biome/use-const"] }),
        thresholds: DEFAULT_THRESHOLDS,
        concurrency: 1,
        cycleTimeoutMs: 5_000,
        recipesPerCycle: 12,
        scopes: ["all"],
        maxFileCandidatesPerRecipe: 1,
        testScopes: ["all"],
        installTimeoutMs: 60_000,
      });
      expect(result).toMatchObject({ cycles: 0, errors: 1 });
    } finally {
      clearInterval(collecting);
    }
    // The baseline's `sleep 120` is stopped at the limit.
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 300_000);
});
