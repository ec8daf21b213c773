import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardHandler, SESSION_COOKIE, sessionValue, tokenMatches } from "../../src/analytics/dashboard.js";
import type { Progress } from "../../src/analytics/progress.js";
import type { AccuracyReport } from "../../src/analytics/report.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

const TOKEN = "s3cret-operator-token";
const BEARER = { headers: { authorization: `Bearer ${TOKEN}` } };

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
    for (const value of ["wrong", TOKEN, sessionValue("wrong")]) {
      const res = await fetch(`${base}/dashboard/progress.json`, { headers: { cookie: `${SESSION_COOKIE}=${value}` } });
      expect(res.status, value).toBe(401);
    }
  });

  it("refuses the token in the URL, even the right one, and with a valid header beside it", async () => {
    for (const path of [
      `/dashboard?token=${TOKEN}`,
      `/dashboard/?token=${TOKEN}`,
      `/dashboard/report.json?token=${TOKEN}`,
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(400);
      const text = await res.text();
      expect(text).toContain("not accepted in the URL");
      expect(text).not.toContain("<svg");
      expect((await fetch(`${base}${path}`, BEARER)).status, path).toBe(400);
    }
    expect((await fetch(`${base}/dashboard?token=`)).status).toBe(400);
  });

  it("shows a login form without the token; the form's login sets a session cookie that opens the dashboard", async () => {
    const anonymous = await fetch(`${base}/dashboard`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-security-policy")).toContain("form-action 'self'");
    const form = await anonymous.text();
    expect(form).toContain('<form method="post" action="/dashboard/login">');
    expect(form).toContain('type="password" name="token"');

    const post = (token: string) =>
      fetch(`${base}/dashboard/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
        redirect: "manual",
      });
    const wrong = await post("wrong");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("not the operator token");

    const ok = await post(TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/dashboard/");
    const setCookie = ok.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/dashboard/);
    // The cookie holds a value derived from the token, never the token itself.
    expect(setCookie).not.toContain(TOKEN);
    const session = setCookie.split(";")[0] as string;
    const page = await fetch(`${base}/dashboard/`, { headers: { cookie: `other=1; ${session}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Collection progress");
    expect((await fetch(`${base}/dashboard/login`)).status).toBe(405);
  });

  it("serves the page with a Bearer token, live figures and charts, under a strict CSP", async () => {
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
  });

  it("serves the figures as JSON", async () => {
    const progress = await (await fetch(`${base}/dashboard/progress.json`, BEARER)).json();
    expect(progress).toMatchObject({ samples: 52, target: 1000 });
    const report = (await (
      await fetch(`${base}/dashboard/report.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as AccuracyReport;
    expect(report.samples).toBe(45);
    expect(report.ml.accuracy).toBeCloseTo(39 / 45, 12);
    expect(report.mcnemarP).toBeCloseTo(598 / 4096, 14);
  });

  it("refuses other methods and unknown paths", async () => {
    expect((await fetch(`${base}/dashboard`, { ...BEARER, method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/dashboard/secrets`, BEARER)).status).toBe(404);
  });

  it("serves nothing when no operator token is configured", async () => {
    const { server: s, base: b } = await serve(createDashboardHandler({ db: db.db, operatorToken: undefined }));
    try {
      const res = await fetch(`${b}/dashboard`, BEARER);
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
      ((await (await fetch(`${b}/dashboard/progress.json`, BEARER)).json()) as Progress).samples;
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
