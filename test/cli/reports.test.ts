/**
 * Item 11 on stored data: `export | head` ends quietly, the HTML report has every row of the Markdown one, the
 * progress rate names its window, and `shadow list` leaves out the checkouts `odavl cycle` recorded.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Progress, renderProgress } from "../../src/analytics/progress.js";
import { buildReport } from "../../src/analytics/report.js";
import { renderReportHtml } from "../../src/analytics/report-html.js";
import { renderReportMarkdown } from "../../src/analytics/report-markdown.js";
import { upsertRepository } from "../../src/db/queries/repositories.js";
import { registerShadowRepository } from "../../src/db/queries/shadow-repositories.js";
import { LEDGER_REPOS, ledgerSamples } from "../analytics/datasets.js";
import { insertDataset } from "../analytics/fixtures.js";
import { odavl } from "../helpers/cli.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { removeTempDirs, tempDir } from "../helpers/engine.js";

const BIN = resolve(import.meta.dirname, "../../bin/odavl.js");

describe.runIf(TEST_DB_KINDS.includes("postgres"))("reports and listings on stored data", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb("postgres");
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
  });
  afterAll(async () => {
    await db?.cleanup();
    removeTempDirs();
  });

  it("odavl export into a pipe its reader closed at once: exit 0, nothing said, no stack", async () => {
    const child = spawn(process.execPath, [BIN, "export", "--format", "jsonl"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url as string },
    });
    // The reader is gone before the first row: every write of the export meets EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  }, 120_000);

  it("the HTML report has the log-loss and confusion rows of the Markdown report, with the same figures", async () => {
    const report = await buildReport(db.db, { thresholds: { review: 0.65, autoApply: 0.85 }, minSamples: 1 });
    const md = renderReportMarkdown(report);
    const html = renderReportHtml(report);
    for (const label of ["log-loss", "confusion at review (tp / fp / tn / fn)"]) {
      const mdRow = md.split("\n").find((l) => l.startsWith(`| ${label} |`));
      expect(mdRow, label).toBeDefined();
      const cells = (mdRow as string)
        .split("|")
        .slice(2, -1)
        .map((c) => c.trim());
      const td = (text: string) => new RegExp(`<td[^>]*>${text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}</td>`);
      const htmlRow = html.split("<tr>").find((r) => td(label).test(r));
      expect(htmlRow, label).toBeDefined();
      for (const cell of cells) expect(htmlRow).toMatch(td(cell));
    }
  });

  it("odavl shadow list leaves out the local checkouts odavl cycle recorded", async () => {
    await upsertRepository(db.db, { owner: ".local", name: "my-app", mode: "shadow", source: "/home/u/my-app" });
    await registerShadowRepository(db.db, { owner: "sindresorhus", name: "ky", source: "https://github.com/x.git" });
    const r = await odavl({ DATABASE_URL: db.url as string, ODAVL_DATA_DIR: tempDir() }, "shadow", "list");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("sindresorhus/ky");
    expect(r.stdout).not.toContain("my-app");
  });
});

describe("odavl progress names the window its rate is measured over", () => {
  const base: Progress = {
    generatedAt: "2026-01-01T00:00:00.000Z",
    target: 100,
    samples: 10,
    progress: 0.1,
    scoredByModel: 10,
    scoredByModelShare: 1,
    completed: 10,
    completedShare: 1,
    verificationErrors: 0,
    repositories: 1,
    recipes: 1,
    perRepository: [],
    perRecipe: [],
    last24h: { samples: 10, completed: 10, perHour: 33.3 },
    eta: { remaining: 90, hours: 2.7, at: "2026-01-01T02:42:00.000Z", basis: "b" },
  };
  it("a run 0.3 hours old is not labelled as the last 24 hours", () => {
    const young = renderProgress({ ...base, rateWindowHours: 0.3 });
    expect(young).toContain("last 18 min:        10 samples, 10 completed (33.3 an hour)");
    expect(young).not.toContain("last 24 hours:");
    expect(renderProgress({ ...base, rateWindowHours: 5 })).toContain("last 5.0 hours:     10 samples");
    expect(renderProgress({ ...base, rateWindowHours: 24 })).toContain("last 24 hours:      10 samples");
  });
});
