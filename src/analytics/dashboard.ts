/**
 * The operators' dashboard: collection progress and the accuracy report's charts, live from the database, as an
 * HTTP handler that the web process mounts at /dashboard. It answers:
 *   GET <mount>                  the page (HTML, no script)
 *   GET <mount>/progress.json    {@link Progress}
 *   GET <mount>/report.json      {@link AccuracyReport}
 *   POST <mount>/login           the login form's target (`token=<token>`): sets the session cookie
 * behind the operator token, sent as `Authorization: Bearer <token>` (scripts) or by logging in through the form the
 * page shows without it (a browser): the cookie holds a value derived from the token, never the token, and is
 * HttpOnly and SameSite=Strict. A token in the URL (`?token=`) is refused: URLs end up in logs and histories.
 * Without a configured token nothing is served: a missing OPERATOR_TOKEN must not open the dashboard to everyone.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
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
  /** Where the web process mounts the handler (the login form's target, the cookie's path). */
  mountPath?: string;
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void;

const SECURITY_HEADERS = {
  // Inline CSS and SVG only: no script may run, nothing may be loaded.
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
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

/** The session cookie's name; its value is {@link sessionValue} of the token. */
export const SESSION_COOKIE = "odavl_dashboard";

/** What the session cookie holds: derived from the token, so a leaked cookie does not reveal the token itself. */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("odavl dashboard session").digest("base64url");
}

function bearerToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth !== "string") return null;
  return /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] ?? null;
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The operator token in a Bearer header, or the session cookie a login set. */
function authorized(req: IncomingMessage, expected: string): boolean {
  const bearer = bearerToken(req);
  if (bearer !== null) return tokenMatches(bearer, expected);
  return tokenMatches(cookie(req, SESSION_COOKIE), sessionValue(expected));
}

type Route = "page" | "progress" | "report" | "login" | null;

/** Works whether the mount strips its prefix (express) or not (plain node http). */
function route(pathname: string): Route {
  const p = pathname.replace(/\/+$/, "");
  if (p === "" || p === "/dashboard") return "page";
  if (p.endsWith("/progress.json")) return "progress";
  if (p.endsWith("/report.json")) return "report";
  if (p.endsWith("/login")) return "login";
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

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The login form: the token is posted in the body, never put in the URL. */
function loginPage(mountPath: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ODAVL dashboard: log in</title>
<style>body{font:16px system-ui,sans-serif;margin:3rem auto;max-width:28rem}input{font:inherit;width:100%;margin:.5rem 0}</style>
</head><body><h1>ODAVL dashboard</h1><p>${escapeHtml(message)}</p>
<form method="post" action="${escapeHtml(mountPath)}/login"><label>Operator token
<input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></body></html>
`;
}

/** The login page's own policy: like the dashboard's, and its form may post to this origin. */
const LOGIN_CSP = SECURITY_HEADERS["content-security-policy"].replace("form-action 'none'", "form-action 'self'");

const MAX_LOGIN_BODY = 4096;

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function isHttps(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true || req.headers["x-forwarded-proto"] === "https";
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

  const mountPath = (options.mountPath ?? "/dashboard").replace(/\/+$/, "");
  const challenge = { "www-authenticate": 'Bearer realm="odavl dashboard"' };

  const login = async (req: IncomingMessage, res: ServerResponse, token: string): Promise<void> => {
    const body = await readBody(req, MAX_LOGIN_BODY);
    const given = body === null ? null : new URLSearchParams(body).get("token");
    if (!tokenMatches(given, token)) {
      send(res, 401, "text/html; charset=utf-8", loginPage(mountPath, "That is not the operator token."), {
        ...challenge,
        "content-security-policy": LOGIN_CSP,
      });
      return;
    }
    const attributes = [`Path=${mountPath}`, "HttpOnly", "SameSite=Strict", ...(isHttps(req) ? ["Secure"] : [])];
    send(res, 303, "text/plain; charset=utf-8", "logged in\n", {
      location: `${mountPath}/`,
      "set-cookie": `${SESSION_COOKIE}=${sessionValue(token)}; ${attributes.join("; ")}`,
    });
  };

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const which = route(url.pathname);
    const allowed = which === "login" ? ["POST"] : ["GET", "HEAD"];
    if (!allowed.includes(req.method ?? "")) {
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", { allow: allowed.join(", ") });
      return;
    }
    if (expected === null) {
      send(res, 503, "text/plain; charset=utf-8", "the dashboard is disabled: OPERATOR_TOKEN is not set\n");
      return;
    }
    if (url.searchParams.has("token")) {
      send(
        res,
        400,
        "text/plain; charset=utf-8",
        "the operator token is not accepted in the URL (URLs end up in logs and histories): send it as " +
          "`Authorization: Bearer <token>`, or log in through the form the dashboard shows\n",
      );
      return;
    }
    if (which === "login") {
      login(req, res, expected).catch((err: unknown) => {
        options.onError?.(err);
        if (!res.headersSent) send(res, 400, "text/plain; charset=utf-8", "could not read the login form\n");
      });
      return;
    }
    if (!authorized(req, expected)) {
      if (which === "page") {
        send(res, 401, "text/html; charset=utf-8", loginPage(mountPath, "The operator token is required."), {
          ...challenge,
          "content-security-policy": LOGIN_CSP,
        });
      } else {
        send(res, 401, "text/plain; charset=utf-8", "unauthorized: the operator token is required\n", challenge);
      }
      return;
    }
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
