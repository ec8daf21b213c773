/**
 * report.html and the dashboard page open in headless Chromium without a console message, and a screenshot is
 * taken. The pages carry a CSP that forbids every script and external resource, so a chart that tried to load
 * anything would log a console error here. Set ODAVL_SCREENSHOT_DIR to keep the screenshots.
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium, or CHROMIUM_PATH); skipped with the reason otherwise.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProgress } from "../../src/analytics/progress.js";
import { buildReport } from "../../src/analytics/report.js";
import { renderDashboardHtml, renderReportHtml } from "../../src/analytics/report-html.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Skipped only where Chromium is missing (apt-get install chromium); CI installs it, so this runs there.
const available = existsSync(CHROMIUM);
if (!available) {
  process.stderr.write(
    `html-browser.test.ts: skipped, ${CHROMIUM} is missing (Debian: apt-get install -y chromium, or set CHROMIUM_PATH)\n`,
  );
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface BrowserRun {
  png: Buffer | null;
  /** Console messages the page produced (Chromium logs them as `...:CONSOLE:<line>] "message", source: ...`). */
  console: string[];
  stderr: string;
}

function screenshot(htmlPath: string, pngPath: string): Promise<BrowserRun> {
  const profile = mkdtempSync(join(tmpdir(), "odavl-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    `--user-data-dir=${profile}`,
    `--screenshot=${pngPath}`,
    "--window-size=1100,2400",
    "--enable-logging=stderr",
    "--v=0",
    pathToFileURL(htmlPath).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err && !existsSync(pngPath)) {
        reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve({
        png: existsSync(pngPath) ? readFileSync(pngPath) : null,
        console: stderr.split("\n").filter((l) => /:CONSOLE[:(]/.test(l)),
        stderr,
      });
    });
  });
}

describe.skipIf(!available)("report.html in headless Chromium", () => {
  let db: TestDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb("pglite");
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
    dir = mkdtempSync(join(tmpdir(), "odavl-html-"));
  });
  afterAll(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function keep(png: string): void {
    const target = process.env.ODAVL_SCREENSHOT_DIR;
    if (!target) return;
    mkdirSync(target, { recursive: true });
    copyFileSync(png, join(target, png.split("/").pop() as string));
  }

  it("the console check sees a page's errors (so that its silence below means something)", async () => {
    const html = join(dir, "planted.html");
    writeFileSync(html, '<!doctype html><html><body><script>console.error("planted-error")</script></body></html>');
    const run = await screenshot(html, join(dir, "planted.png"));
    expect(run.console.join("\n")).toContain("planted-error");
  });

  it("report.html: no console message, a screenshot", async () => {
    const report = await buildReport(db.db, { now: new Date("2025-03-03T00:00:00Z") });
    const html = join(dir, "report.html");
    writeFileSync(html, renderReportHtml(report));
    const png = join(dir, "report.png");
    const run = await screenshot(html, png);
    expect(run.console).toEqual([]);
    expect(run.png?.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // A blank page compresses to a few kilobytes; charts and tables do not.
    expect(run.png?.length).toBeGreaterThan(50_000);
    keep(png);
  });

  it("the dashboard page: no console message, a screenshot", async () => {
    const now = new Date("2025-03-03T00:00:00Z");
    const page = renderDashboardHtml(
      await loadProgress(db.db, { target: 1000, now }),
      await buildReport(db.db, { now }),
      60,
    );
    const html = join(dir, "dashboard.html");
    writeFileSync(html, page);
    const png = join(dir, "dashboard.png");
    const run = await screenshot(html, png);
    expect(run.console).toEqual([]);
    expect(run.png?.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    keep(png);
  });
});
