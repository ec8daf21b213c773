import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardHandler, tokenMatches } from "../../src/analytics/dashboard.js";
import type { Progress } from "../../src/analytics/progress.js";
import type { AccuracyReport } from "../../src/analytics/report.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

const TOKEN = "s3cret-operator-token";

/** A server that mounts the handler at /dashboard the way a plain node web process would (prefix kept). */
async function serve(handler: ReturnType<typeof createDashboardHandler>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/dashboard")) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("dashboard", () => {
  let db: TestDb;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    db = await createTestDb("pglite");
    await insertDataset(db.db, LEDGER_REPOS, ledgerSamples());
    const handler = createDashboardHandler({
      db: db.db,
      operatorToken: TOKEN,
      target: 1000,
      now: () => new Date("2025-03-03T00:00:00Z"),
    });
    ({ server, base } = await serve(handler));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.cleanup();
  });

  it("answers 401 without the token or with a wrong one", async () => {
    for (const init of [
      {},
      { headers: { authorization: "Bearer wrong" } },
      { headers: { authorization: `Basic ${TOKEN}` } },
    ]) {
      const res = await fetch(`${base}/dashboard`, init);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain("<svg");
    }
    expect((await fetch(`${base}/dashboard?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/dashboard?token=`)).status).toBe(401);
  });

  it("serves the page with a Bearer token or ?token=, live figures and charts, under a strict CSP", async () => {
    const res = await fetch(`${base}/dashboard`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("Collection progress");
    expect(html).toContain("52 / 1,000");
    // The progress bar and the report's four charts.
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).not.toContain("<script");
    const viaQuery = await fetch(`${base}/dashboard/?token=${TOKEN}`);
    expect(viaQuery.status).toBe(200);
  });

  it("serves the figures as JSON", async () => {
    const progress = await (await fetch(`${base}/dashboard/progress.json?token=${TOKEN}`)).json();
    expect(progress).toMatchObject({ samples: 52, target: 1000 });
    const report = (await (
      await fetch(`${base}/dashboard/report.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as AccuracyReport;
    expect(report.samples).toBe(45);
    expect(report.ml.accuracy).toBeCloseTo(39 / 45, 12);
    expect(report.mcnemarP).toBeCloseTo(598 / 4096, 14);
  });

  it("refuses other methods and unknown paths", async () => {
    expect((await fetch(`${base}/dashboard?token=${TOKEN}`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/dashboard/secrets?token=${TOKEN}`)).status).toBe(404);
  });

  it("serves nothing when no operator token is configured", async () => {
    const { server: s, base: b } = await serve(createDashboardHandler({ db: db.db, operatorToken: undefined }));
    try {
      const res = await fetch(`${b}/dashboard?token=`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("OPERATOR_TOKEN is not set");
    } finally {
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it("recomputes at most once per cache period (runs last: it adds a prediction)", async () => {
    let clock = Date.parse("2025-03-03T00:00:00Z");
    const { server: s, base: b } = await serve(
      createDashboardHandler({ db: db.db, operatorToken: TOKEN, cacheMs: 15_000, now: () => new Date(clock) }),
    );
    const samples = async () =>
      ((await (await fetch(`${b}/dashboard/progress.json?token=${TOKEN}`)).json()) as Progress).samples;
    try {
      expect(await samples()).toBe(52);
      await insertDataset(
        db.db,
        [{ owner: "acme", name: "late", facts: null }],
        [
          {
            repo: "acme/late",
            recipeId: "eslint/prefer-const",
            mlTrust: 0.9,
            heuristicTrust: 0.9,
            usedMl: true,
            latencyMs: 1,
            createdAt: new Date(clock),
            outcome: null,
          },
        ],
      );
      clock += 14_000;
      expect(await samples()).toBe(52);
      clock += 2_000;
      expect(await samples()).toBe(53);
    } finally {
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it("compares tokens of any length without throwing", () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches("short", TOKEN)).toBe(false);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });
});
