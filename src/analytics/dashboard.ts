/**
 * The operators' dashboard: collection progress and the accuracy report's charts, live from the database, as an
 * HTTP handler that the web process mounts at /dashboard. It answers:
 *   GET <mount>                  the page (HTML, no script)
 *   GET <mount>/progress.json    {@link Progress}
 *   GET <mount>/report.json      {@link AccuracyReport}
 * behind the operator token (`Authorization: Bearer <token>` or `?token=<token>`). Without a configured token
 * nothing is served: a missing OPERATOR_TOKEN must not open the dashboard to everyone.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DbOrTx } from "../db/client.js";
import { DEFAULT_THRESHOLDS, type TierThresholds } from "../model/tiers.js";
import { loadProgress, type Progress } from "./progress.js";
import { type AccuracyReport, buildReport } from "./report.js";
import { renderDashboardHtml } from "./report-html.js";

export interface DashboardOptions {
  db: DbOrTx;
  operatorToken: string | undefined;
  /** Samples wanted (COLLECT_TARGET). */
  target?: number;
  thresholds?: TierThresholds;
  /**
   * Figures are recomputed at most this often (ms): the report reads every sample, and a page left open on a few
   * screens must not recompute it for each of them.
   */
  cacheMs?: number;
  /** The page reloads itself this often (s). */
  refreshSeconds?: number;
  now?: () => Date;
  /** Where failures to compute the figures are reported (the web process passes its logger). */
  onError?: (err: unknown) => void;
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void;

const SECURITY_HEADERS = {
  // Inline CSS and SVG only: no script may run, nothing may be loaded.
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // The token may be in the URL: never send it to another site.
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
} as const;

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * Compares in constant time. Both sides are hashed first so that the comparison does not leak the token's length
 * either (timingSafeEqual needs equal lengths).
 */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1] as string;
  }
  return url.searchParams.get("token");
}

type Route = "page" | "progress" | "report" | null;

/** Works whether the mount strips its prefix (express) or not (plain node http). */
function route(pathname: string): Route {
  const p = pathname.replace(/\/+$/, "");
  if (p === "" || p === "/dashboard") return "page";
  if (p.endsWith("/progress.json")) return "progress";
  if (p.endsWith("/report.json")) return "report";
  return null;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

export function createDashboardHandler(options: DashboardOptions): DashboardHandler {
  const cacheMs = options.cacheMs ?? 15_000;
  const refreshSeconds = options.refreshSeconds ?? 60;
  const now = options.now ?? (() => new Date());
  const expected = options.operatorToken && options.operatorToken.length > 0 ? options.operatorToken : null;
  let cached: { at: number; value: Promise<{ progress: Progress; report: AccuracyReport }> } | null = null;

  const figures = () => {
    const t = now();
    if (cached && t.getTime() - cached.at < cacheMs) return cached.value;
    const value = (async () => ({
      progress: await loadProgress(options.db, { target: options.target ?? 50_000, now: t }),
      report: await buildReport(options.db, { thresholds: options.thresholds ?? DEFAULT_THRESHOLDS, now: t }),
    }))();
    cached = { at: t.getTime(), value };
    // A failure is not cached: the next request tries again.
    value.catch(() => {
      if (cached?.value === value) cached = null;
    });
    return value;
  };

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", { allow: "GET, HEAD" });
      return;
    }
    if (expected === null) {
      send(res, 503, "text/plain; charset=utf-8", "the dashboard is disabled: OPERATOR_TOKEN is not set\n");
      return;
    }
    if (!tokenMatches(presentedToken(req, url), expected)) {
      send(res, 401, "text/plain; charset=utf-8", "unauthorized: the operator token is required\n", {
        "www-authenticate": 'Bearer realm="odavl dashboard"',
      });
      return;
    }
    const which = route(url.pathname);
    if (which === null) {
      send(res, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    figures().then(
      ({ progress, report }) => {
        if (which === "page")
          send(res, 200, "text/html; charset=utf-8", renderDashboardHtml(progress, report, refreshSeconds));
        else
          send(res, 200, "application/json; charset=utf-8", JSON.stringify(which === "progress" ? progress : report));
      },
      (err: unknown) => {
        options.onError?.(err);
        send(res, 500, "text/plain; charset=utf-8", "the dashboard could not read the database\n");
      },
    );
  };
}
