/**
 * A failure to reach Postgres or Redis, said as the setting that points at them: "DATABASE_URL: could not reach
 * nope:1 (host not found)" rather than a stack ending in `getaddrinfo ENOTFOUND nope`.
 */

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/** Postgres errors that only a wrong DATABASE_URL causes (SQLSTATE). */
const POSTGRES_CODES: Record<string, string> = {
  "28P01": "password authentication failed",
  "28000": "authorization failed",
  "3D000": "the database does not exist",
};

interface Endpoint {
  variable: "DATABASE_URL" | "REDIS_URL";
  host: string;
  port: string;
}

function endpoint(variable: Endpoint["variable"], value: string | undefined, defaultPort: string): Endpoint | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return { variable, host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port || defaultPort };
  } catch {
    return null;
  }
}

function causes(err: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== "object" || depth > 4) return;
    out.push(e as Record<string, unknown>);
    const { errors, cause } = e as { errors?: unknown; cause?: unknown };
    if (Array.isArray(errors)) for (const x of errors) visit(x, depth + 1);
    visit(cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/** The message for a connection failure to DATABASE_URL or REDIS_URL, or null when `err` is something else. */
export function describeConnectionError(err: unknown, env: NodeJS.ProcessEnv): string | null {
  const endpoints = [
    endpoint("DATABASE_URL", env.DATABASE_URL, "5432"),
    endpoint("REDIS_URL", env.REDIS_URL, "6379"),
  ].filter((e): e is Endpoint => e !== null);
  if (endpoints.length === 0) return null;
  for (const e of causes(err)) {
    const code = typeof e.code === "string" ? e.code : "";
    const pg = POSTGRES_CODES[code];
    const db = endpoints.find((x) => x.variable === "DATABASE_URL");
    if (pg && db) return `DATABASE_URL: ${pg} at ${db.host}:${db.port} (check the URL's user, password and database)`;
    const net = NETWORK_CODES[code];
    if (!net) continue;
    const host = String(e.hostname ?? e.address ?? "");
    const port = e.port === undefined ? "" : String(e.port);
    // Lookups name the host; connections name the address and port (localhost resolves to ::1 and 127.0.0.1).
    const matches = endpoints.filter((x) => (port !== "" ? x.port === port : host === "" || x.host === host));
    if (matches.length === 0) continue;
    return matches
      .map(
        (x) =>
          `${x.variable}: could not reach ${x.host}:${x.port} (${net}); is the server running, and is the URL right?`,
      )
      .join("\n");
  }
  return null;
}
