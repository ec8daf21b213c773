/**
 * Readiness of the web process: Postgres answers `select 1`, Redis answers PING, each within a short timeout, and
 * which model would score candidates (the shipped one or the heuristic fallback, and why).
 */
import type { ServerResponse } from "node:http";

export interface ReadinessChecks {
  postgres(): Promise<unknown>;
  redis(): Promise<unknown>;
  /** What decides trust: never makes the process unready (the heuristic fallback is a working state). */
  model(): { loaded: boolean; modelVersion: string | null; fallback: string | null };
  /** Per check (ms). A load balancer polls every few seconds: a slow dependency counts as down. */
  timeoutMs?: number;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  postgres: CheckResult;
  redis: CheckResult;
  model: ReturnType<ReadinessChecks["model"]>;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number, what: string): Promise<CheckResult> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, ms: Math.round(performance.now() - start) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, ms: Math.round(performance.now() - start), error: message || `${what} failed` };
  } finally {
    clearTimeout(timer);
  }
}

async function checkReadiness(c: ReadinessChecks): Promise<Readiness> {
  const timeoutMs = c.timeoutMs ?? 2_000;
  const [postgres, redis] = await Promise.all([
    timed(c.postgres, timeoutMs, "postgres"),
    timed(c.redis, timeoutMs, "redis"),
  ]);
  return { ready: postgres.ok && redis.ok, postgres, redis, model: c.model() };
}

export function serveReadiness(c: ReadinessChecks, res: ServerResponse): void {
  checkReadiness(c).then(
    (r) => {
      res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(`${JSON.stringify(r)}\n`);
    },
    (err: unknown) => {
      res
        .writeHead(503, { "content-type": "application/json" })
        .end(`${JSON.stringify({ ready: false, error: String(err) })}\n`);
    },
  );
}
