import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";
import { odavl } from "../helpers/cli.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

describe.runIf(TEST_DB_KINDS.includes("postgres"))("odavl progress, check-data, report and export", () => {
  let db: TestDb;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
    dir = mkdtempSync(join(tmpdir(), "odavl-cli-"));
    env = { DATABASE_URL: db.url as string, ODAVL_DATA_DIR: dir };
  });
  afterAll(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("progress: text and --json, target from COLLECT_TARGET or --target", async () => {
    const text = await odavl({ ...env, COLLECT_TARGET: "200" }, "progress");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("samples:            52 / 200 (26.0%)");
    const json = await odavl(env, "progress", "--json", "--target", "104");
    expect(JSON.parse(json.stdout)).toMatchObject({ samples: 52, target: 104, progress: 0.5 });
    const bad = await odavl(env, "progress", "--target", "many");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--target: must be an integer in [1, 1000000000], got "many"');
  });

  it("check-data: exit 1 when a check fails, 0 when the thresholds allow what it finds", async () => {
    // 2 of 52 old predictions have no outcome (3.8% > 1%) and 49 of 52 are verified (94.2% < 95%).
    const failed = await odavl(env, "check-data");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAIL +stale-predictions +2 of 52/);
    expect(failed.stdout).toMatch(/FAIL +completion +94\.2% of 52/);
    const passed = await odavl(env, "check-data", "--json", "--max-stale-share", "0.05", "--min-completion", "0.9");
    expect(passed.code).toBe(0);
    expect(JSON.parse(passed.stdout)).toMatchObject({
      ok: true,
      thresholds: { maxStaleShare: 0.05, minCompletion: 0.9 },
    });
    const bad = await odavl(env, "check-data", "--min-completion", "95");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--min-completion: must be a number in [0, 1]");
  });

  it("report: writes ACCURACY_REPORT.md and report.html; --json prints the figures", async () => {
    const out = join(dir, "report");
    const r = await odavl(env, "report", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^The sample is too small to conclude: 45 samples/);
    expect(r.stdout).toContain("McNemar p = 0.146");
    expect(r.stdout).toContain("maintainers' answers: no pull request of a fix stored yet");
    expect(readFileSync(join(out, "ACCURACY_REPORT.md"), "utf8")).toMatch(/^# ODAVL Autopilot: accuracy report/);
    expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(/^<!doctype html>/);
    // The shipped model's card: its validation table held out by repository, with intervals, and its gate.
    const shipped = JSON.parse(readFileSync(join(import.meta.dirname, "../../models/trust-predictor.json"), "utf8"));
    expect(r.stdout).toContain(`model card ${shipped.modelVersion}`);
    expect(r.stdout).toMatch(/auto-apply precision: \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \| /);
    expect(r.stdout).toMatch(/gate: (open|closed)/);
    expect(readFileSync(join(out, "ACCURACY_REPORT.md"), "utf8")).toContain("validation held out by repository");
    const j = await odavl(env, "report", "--json", "--since", "2025-03-01", "--until", "2025-03-02T00:00:00Z");
    expect(j.code).toBe(0);
    const figures = JSON.parse(j.stdout);
    expect(figures.modelCard.validation.map((v: { metric: string }) => v.metric)).toContain("auto-apply precision");
    for (const key of [
      "samples",
      "improvementPoints",
      "falsePositiveRate",
      "autoApprovalRate",
      "autoApplyPrecision",
      "auc",
      "mcnemarP",
      "latencyP99Ms",
    ]) {
      expect(figures).toHaveProperty(key);
    }
    // Day 1 only: K1-K4, the model right on all 36, the heuristic on 30.
    expect(figures.samples).toBe(36);
    expect(figures.acceptance.map((a: { tier: string }) => a.tier)).toEqual([
      "auto-apply",
      "review-suggested",
      "manual-only",
      "all",
    ]);
    expect(figures.ml.accuracy).toBe(1);
    expect(figures.heuristic.accuracy).toBeCloseTo(30 / 36, 12);
    expect(existsSync(join(process.cwd(), "report.html"))).toBe(false);
    const backwards = await odavl(env, "report", "--since", "2025-03-02", "--until", "2025-03-01");
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain("--since must be before --until");
  });

  it("export: to a file or standard output; bad --format and --since are usage errors", async () => {
    const file = join(dir, "data", "set.csv");
    const r = await odavl(env, "export", "--format", "csv", "--out", file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`exported 49 rows (feature schema v${FEATURE_SCHEMA_VERSION}, csv) to ${file}\n`);
    expect(readFileSync(file, "utf8").trimEnd().split("\n")).toHaveLength(50);
    const s = await odavl(env, "export", "--format", "jsonl", "--since", "2025-03-02");
    expect(s.stdout.trimEnd().split("\n")).toHaveLength(10);
    for (const [args, message] of [
      [["--format", "xml"], 'odavl export: --format: unknown format "xml" (expected one of jsonl, csv)'],
      [[], "odavl export: --format: required: one of jsonl, csv"],
      [["--format", "csv", "--since", "yesterday"], '--since: "yesterday" is not a date'],
      [["--format", "csv", "--since", "2025-02-30"], '--since: "2025-02-30" is not a calendar date'],
      [
        ["--format", "csv", "--since", "2025-03-01T10:00"],
        "is not a date (expected YYYY-MM-DD, or an ISO 8601 time with a zone",
      ],
      [["--format", "csv", "--limit", "3"], "Unknown option '--limit'"],
    ] as const) {
      const bad = await odavl(env, "export", ...args);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
    }
  });
});
