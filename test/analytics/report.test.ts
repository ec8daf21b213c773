import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccuracyReport, buildReport, TARGETS } from "../../src/analytics/report.js";
import { renderReportHtml } from "../../src/analytics/report-html.js";
import { renderReportMarkdown } from "../../src/analytics/report-markdown.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

const NOW = new Date("2025-03-03T00:00:00Z");
/** Values are compared to 12 decimals: hand-computed fractions and scipy's figures are exact to about 1e-15. */
const D = 12;

describe.each(TEST_DB_KINDS)("accuracy report on the LEDGER dataset (%s)", (kind) => {
  let db: TestDb;
  let r: AccuracyReport;

  beforeAll(async () => {
    db = await createTestDb(kind);
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
    r = await buildReport(db.db, { now: NOW });
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it("counts the samples: model-scored with a verified outcome, nothing else", () => {
    // 52 predictions = 45 samples + 3 heuristic-only + 2 without outcome + 1 error outcome + 1 timeout.
    expect(r.funnel).toEqual({ predictions: 52, withOutcome: 50, verified: 49, verifiedScoredByModel: 45 });
    expect(r.samples).toBe(45);
    expect(r.repositories).toBe(3);
    // Successes: K1 20 + K2 6 + K3 4 + K6 2 + K8 2 = 34.
    expect(r.successRate).toBeCloseTo(34 / 45, D);
  });

  it("paired table, accuracies with Wilson intervals, difference with Newcombe's interval", () => {
    // both right K1+K3+K4 = 30; model only K2+K5 = 9; heuristic only K6+K7 = 3; neither K8+K9 = 3.
    expect(r.paired).toEqual({ both: 30, onlyFirst: 9, onlySecond: 3, neither: 3 });
    expect(r.ml.accuracy).toBeCloseTo(39 / 45, D);
    expect(r.heuristic.accuracy).toBeCloseTo(33 / 45, D);
    expect(r.ml.intervals.accuracy?.lower).toBeCloseTo(0.7382269817382293, D);
    expect(r.ml.intervals.accuracy?.upper).toBeCloseTo(0.9374285125243192, D);
    expect(r.heuristic.intervals.accuracy?.lower).toBeCloseTo(0.5896116224686505, D);
    expect(r.heuristic.intervals.accuracy?.upper).toBeCloseTo(0.8403509647893348, D);
    // (39 - 33) / 45 = 13.33 points; A = 30*3 - 9*3 = 63 > 22.5, phi = 40.5 / sqrt(39*6*33*12).
    expect(r.improvementPoints).toBeCloseTo((6 / 45) * 100, 10);
    expect(r.improvementInterval?.lower).toBeCloseTo(-2.2525668303288837, 10);
    expect(r.improvementInterval?.upper).toBeCloseTo(28.48490890062051, 10);
  });

  it("McNemar: 12 discordant pairs, so the exact test: 2 P(X <= 3 | 12, 1/2) = 598 / 4096", () => {
    expect(r.mcnemar).toMatchObject({ b: 9, c: 3, method: "exact", statistic: null });
    expect(r.mcnemarP).toBeCloseTo(598 / 4096, 14);
  });

  it("tier metrics of the model, the heuristic and the majority baseline", () => {
    // Failures: K4 6, K5 3, K7 1, K9 1 = 11. Model positive among them: K7 (0.88), K9 (0.75).
    expect(r.falsePositiveRate).toBeCloseTo(2 / 11, D);
    expect(r.ml.intervals.falsePositiveRate?.lower).toBeCloseTo(0.05136768974608513, D);
    expect(r.ml.intervals.falsePositiveRate?.upper).toBeCloseTo(0.4769805619608442, D);
    // Model >= 0.85: K1 20 + K2 6 + K7 1 = 27 of 45, 26 of them successes.
    expect(r.autoApprovalRate).toBeCloseTo(27 / 45, D);
    expect(r.ml.intervals.autoApprovalRate?.lower).toBeCloseTo(0.45451854590351387, D);
    expect(r.ml.intervals.autoApprovalRate?.upper).toBeCloseTo(0.7297511343499083, D);
    expect(r.autoApplyPrecision).toBeCloseTo(26 / 27, D);
    expect(r.ml.intervals.autoApplyPrecision?.lower).toBeCloseTo(0.8171653406642414, D);
    expect(r.ml.autoApplied).toEqual({ samples: 27, successes: 26 });
    // At review: successes K1+K2+K3 = 30 positive, K6+K8 = 4 not; failures K7+K9 = 2 positive, K4+K5 = 9 not.
    expect(r.ml.confusion).toEqual({ tp: 30, fp: 2, tn: 9, fn: 4 });
    // AUC by hand: positives at 0.90 (26) beat all 11 failures, at 0.70 (4) and 0.60 (2) beat the 9 at 0.30/0.40,
    // at 0.20 (2) beat none: (286 + 36 + 18) / (34 * 11) = 340 / 374.
    expect(r.auc).toBeCloseTo(340 / 374, D);
    // Heuristic positive among failures: K5 (0.80) 3, K9 (0.90) 1. At >= 0.85: K3 4 + K6 2 + K9 1 = 7, 6 successes.
    expect(r.heuristic.falsePositiveRate).toBeCloseTo(4 / 11, D);
    expect(r.heuristic.autoApprovalRate).toBeCloseTo(7 / 45, D);
    expect(r.heuristic.autoApplyPrecision).toBeCloseTo(6 / 7, D);
    // Heuristic AUC: 0.70 x20 and 0.50 x6 beat 7 failures (0.20 x6, 0.30), 0.90 x4 beat 10 and tie 1,
    // 0.95 x2 beat 11: (140 + 42 + 42 + 22) / 374 = 246 / 374.
    expect(r.heuristic.auc).toBeCloseTo(246 / 374, D);
    // Majority: successes (34) outnumber failures, so always "success" at trust 1.
    expect(r.majority.predicts).toBe("success");
    expect(r.majority.accuracy).toBeCloseTo(34 / 45, D);
    expect(r.majority.falsePositiveRate).toBe(1);
    expect(r.majority.autoApprovalRate).toBe(1);
    expect(r.majority.autoApplyPrecision).toBeCloseTo(34 / 45, D);
    expect(r.majority.auc).toBe(0.5);
    expect(r.majority.intervals.accuracy?.lower).toBeCloseTo(0.6132661994297965, D);
  });

  it("latency over predictions where a model ran, and the busiest hour", () => {
    // 1..45 (samples), 46, 47 (no outcome), 48 (error), 300 (timeout): 49 values; the 3 at 500 ms had no model.
    // Nearest rank: p50 = 25th value, p99 = ceil(0.99 * 49) = 49th.
    expect(r.latency).toEqual({ samples: 49, p50Ms: 25, p99Ms: 300, maxMs: 300 });
    expect(r.latencyP99Ms).toBe(300);
    // Day 1, 10:00: K1-K4 (36) + 3 heuristic-only = 39 verified; day 2, 09:00: K5-K9 (9) + timeout = 10.
    expect(r.throughput).toEqual({
      peakPerHour: 39,
      peakHour: "2025-03-01T10:00Z",
      activeHours: 2,
      meanPerActiveHour: 24.5,
    });
  });

  it("by project type, with the consistency statement", () => {
    const size = r.byProjectType.sizeBand;
    expect(size.map((g) => [g.group, g.samples])).toEqual([
      ["small (< 10k lines)", 26],
      ["medium (10k-100k lines)", 17],
      ["unknown", 2],
    ]);
    const small = size[0];
    // K1 + K2: all successes, the model right on all 26, the heuristic on K1's 20.
    expect(small?.mlAccuracy).toBe(1);
    expect(small?.heuristicAccuracy).toBeCloseTo(20 / 26, D);
    expect(small?.improvementPoints).toBeCloseTo((6 / 26) * 100, 10);
    expect(small?.improvementInterval?.lower).toBeCloseTo(5.448906266207809, 10);
    expect(small?.improvementInterval?.upper).toBeCloseTo(42.05155407894367, 10);
    // K3 4, K4 6, K5 3, K6 2, K7 1, K9 1: model right on K3+K4+K5 = 13, heuristic on K3+K4+K6+K7 = 13.
    expect(size[1]?.mlAccuracy).toBeCloseTo(13 / 17, D);
    expect(size[1]?.heuristicAccuracy).toBeCloseTo(13 / 17, D);
    expect(size[1]?.improvementPoints).toBeCloseTo(0, D);
    expect(size[1]?.mlFalsePositiveRate).toBeCloseTo(2 / 11, D);
    expect(size[2]).toMatchObject({ group: "unknown", mlAccuracy: 0, heuristicAccuracy: 0, successRate: 1 });
    expect(r.byProjectType.hasTests.map((g) => [g.group, g.samples])).toEqual([
      ["has tests", 26],
      ["no tests", 17],
      ["unknown", 2],
    ]);
    expect(r.byProjectType.framework.map((g) => [g.group, g.samples])).toEqual([
      ["react", 26],
      ["none", 17],
      ["unknown", 2],
    ]);
    expect(r.consistency.groupsJudged).toBe(0);
    expect(r.consistency.statement).toContain("No project-type group has 30 samples");
  });

  it("per recipe, over time, calibration and the trust histogram", () => {
    expect(r.perRecipe.map((g) => [g.group, g.samples, g.successRate, g.mlAccuracy, g.heuristicAccuracy])).toEqual([
      ["eslint/prefer-const", 24, 1, 1, 1],
      ["ts/remove-unused-imports", 12, 0.5, 1, 0.5],
      ["biome/use-optional-chain", 9, 4 / 9, 3 / 9, 3 / 9],
    ]);
    expect(r.overTime).toEqual({
      granularity: "day",
      buckets: [
        { start: "2025-03-01", samples: 36, mlAccuracy: 1, heuristicAccuracy: 30 / 36 },
        { start: "2025-03-02", samples: 9, mlAccuracy: 3 / 9, heuristicAccuracy: 3 / 9 },
      ],
    });
    const bins = r.calibration.ml;
    expect(bins.map((b) => b.count)).toEqual([0, 0, 2, 6, 3, 0, 2, 5, 1, 26]);
    // Bin 0.7-0.8: K3 (4 x 0.70, successes) and K9 (0.75, failure).
    expect(bins[7]?.meanPredicted).toBeCloseTo((4 * 0.7 + 0.75) / 5, D);
    expect(bins[7]?.observedRate).toBeCloseTo(0.8, D);
    const h = r.histogram;
    expect(h).toHaveLength(20);
    const nonEmpty = h.flatMap((b, i) => (b.successes + b.failures ? [[i, b.successes, b.failures]] : []));
    expect(nonEmpty).toEqual([
      [4, 2, 0],
      [6, 0, 6],
      [8, 0, 3],
      [12, 2, 0],
      [14, 4, 0],
      [15, 0, 1],
      [17, 0, 1],
      [18, 26, 0],
    ]);
  });

  it("operating points: where each score's threshold would sit for a wanted precision", () => {
    // Model, highest first: 26 successes at 0.90, a failure at 0.88, a failure at 0.75, 4 successes at 0.70, ...
    // 0.88 takes 27 with 26 successes (96.3%); lower thresholds stay under 95%. Above 96.3%, only 0.90 (100%).
    const model = (threshold: number, approved: number, successes: number, failures: number) => ({
      threshold,
      approvalRate: approved / 45,
      precision: successes / approved,
      failuresApproved: failures / 11,
    });
    expect(r.operatingPoints.map((o) => o.minPrecision)).toEqual([0.95, 0.97, 0.98, 0.99]);
    for (const { minPrecision, model: got, heuristic } of r.operatingPoints) {
      const want = minPrecision === 0.95 ? model(0.88, 27, 26, 1) : model(0.9, 26, 26, 0);
      for (const [k, v] of Object.entries(want)) expect(got?.[k as keyof typeof want]).toBeCloseTo(v, D);
      // Heuristic: 2 successes at 0.95, then 0.90 takes 4 successes and a failure (6 of 7): only 0.95 reaches 95%.
      expect(heuristic).toMatchObject({ approvalRate: 2 / 45, precision: 1, failuresApproved: 0 });
      expect(heuristic?.threshold).toBeCloseTo(0.95, D);
    }
  });

  it("judges the targets by their intervals and says plainly that 45 samples are too few", () => {
    const verdicts = Object.fromEntries(r.validation.map((v) => [v.id, v.verdict]));
    expect(verdicts).toEqual({
      // 0.738-0.937 straddles 0.85.
      accuracy: "inconclusive",
      // -2.3 to +28.5 points straddles +3.
      improvement: "inconclusive",
      // 0.051-0.477: all of it at or above 5%.
      falsePositiveRate: "not met",
      // 0.455-0.730 reaches beyond 60%.
      autoApprovalRate: "inconclusive",
      latencyP99: "not met",
      throughput: "not met",
    });
    expect(r.conclusive).toBe(false);
    expect(r.statement).toMatch(
      /^The sample is too small to conclude: 45 samples \(from 3 repositories\), fewer than the 1000 this report/,
    );
    expect(TARGETS.minAccuracy).toBe(0.85);
  });

  it("renders Markdown and HTML with the same figures", () => {
    const md = renderReportMarkdown(r);
    expect(md).toContain("| model accuracy >= 85% | 86.7% | 73.8-93.7% | inconclusive | Wilson 95% interval |");
    expect(md).toContain("+13.3 points, 95% interval -2.3 to +28.5");
    expect(md).toContain("exact two-sided binomial test, p = 0.146");
    expect(md).toContain("The sample is too small to conclude");
    expect(md).toContain("95% Wilson score intervals without continuity correction");
    expect(md).toContain("| 95.0% | 0.880 | 60.0% | 9.1% | 0.950 | 4.4% | 0.0% |");
    const html = renderReportHtml(r);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('<span class="verdict-not-met">not met</span>');
    expect(html).toContain(
      '<td class="n">95.0%</td><td class="n">0.880</td><td class="n">60.0%</td><td class="n">9.1%</td>',
    );
  });
});

describe.each(TEST_DB_KINDS)("accuracy report options (%s)", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it("restricts to a time range and judges consistency over groups of the given size", async () => {
    const r = await buildReport(db.db, {
      now: NOW,
      range: { since: new Date("2025-03-02T00:00:00Z") },
      minGroupSamples: 5,
    });
    // Day 2 only: K5-K9.
    expect(r.samples).toBe(9);
    expect(r.paired).toEqual({ both: 0, onlyFirst: 3, onlySecond: 3, neither: 3 });
    expect(r.range.since).toBe("2025-03-02T00:00:00.000Z");
    // medium (7 of K5-K9) is judged: 3 right each, no advantage; unknown (2) is too small.
    expect(r.consistency).toMatchObject({ groupsJudged: 3, groupsWhereModelWins: 0 });
    const whole = await buildReport(db.db, { now: NOW, minGroupSamples: 10 });
    // small/has tests/react (+23.1 points) win; medium/no tests/none (0 points) do not.
    expect(whole.consistency).toMatchObject({ groupsJudged: 6, groupsWhereModelWins: 3 });
    expect(whole.consistency.statement).toContain("3 of 6");
  });

  it("an empty database gives no figures and says so", async () => {
    const empty = await createTestDb(kind);
    try {
      const r = await buildReport(empty.db, { now: NOW });
      expect(r.samples).toBe(0);
      expect(r.ml.accuracy).toBeNull();
      expect(r.mcnemarP).toBeNull();
      expect(r.validation.every((v) => v.verdict === "no data")).toBe(true);
      expect(r.statement).toMatch(/no samples yet/);
      expect(renderReportHtml(r)).toContain("no samples yet");
    } finally {
      await empty.cleanup();
    }
  });
});
