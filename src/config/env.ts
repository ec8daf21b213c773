/**
 * The environment, read and validated once at start-up. Nothing below the entry points reads process.env.
 * A bad value stops start-up with a message that names the variable.
 */
import { availableParallelism, homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { z } from "zod";

const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .optional()
    .transform((v) => (v === undefined || v === "" ? def : v === "true" || v === "1" || v === "yes"));

const num = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be a number in [${min}, ${max}], got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

/** A connection URL of one of `schemes` (e.g. postgres:, postgresql:), host included; absent when unset or empty. */
const connectionUrl = (schemes: readonly string[], example: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return undefined;
      let url: URL | null = null;
      try {
        url = new URL(v);
      } catch {
        url = null;
      }
      if (!url || !schemes.includes(url.protocol.slice(0, -1)) || url.hostname === "") {
        const shown = url ? `${url.protocol}//${url.host}…` : `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
        ctx.addIssue({
          code: "custom",
          message: `must be a ${schemes.map((s) => `${s}://`).join(" or ")} URL with a host (e.g. ${example}), got ${shown}`,
        });
        return z.NEVER;
      }
      return v;
    });

export const envSchema = z.object({
  DATABASE_URL: connectionUrl(["postgres", "postgresql"], "postgres://user:password@127.0.0.1:5432/odavl"),
  REDIS_URL: connectionUrl(["redis", "rediss"], "redis://127.0.0.1:6379"),
  ODAVL_DATA_DIR: optionalString,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ML_ENABLE: bool(true),
  ML_MODEL_PATH: optionalString,
  ML_TIME_BUDGET_MS: num(250, 1, 60_000),
  ML_AUTO_APPLY_THRESHOLD: num(0.85, 0, 1),
  ML_CONFIDENCE_THRESHOLD: num(0.65, 0, 1),
  DATA_COLLECTION_ENABLED: bool(true),
  FEATURE_AUTO_APPROVE: bool(true),
  WORKER_CONCURRENCY: num(1, 1, 64),
  /** The cost budget: candidates verified per cycle at most, those of highest trust × findings fixed. */
  CYCLE_MAX_CANDIDATES: num(40, 1, 10_000),
  /** Redis key prefix of the queue: deployments (and test runs) sharing one Redis keep apart by it. */
  QUEUE_PREFIX: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? "odavl" : v))
    .pipe(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only")),
  SANDBOX_TIMEOUT_MS: num(10 * 60_000, 1_000, 3_600_000),
  SANDBOX_MEMORY_MB: num(4096, 64, 65_536),
  SANDBOX_MAX_PROCESSES: num(256, 8, 65_536),
  SANDBOX_MAX_FILE_MB: num(256, 1, 65_536),
  SANDBOX_MAX_OUTPUT_BYTES: num(1024 * 1024, 1024, 256 * 1024 * 1024),
  SANDBOX_TMP_MB: num(1024, 16, 65_536),
  /** Test runs of one cycle's Verify at once (test groups, each in its own copy). Default 2, 1 on one core. */
  SANDBOX_PARALLEL_RUNS: num(Math.min(2, availableParallelism()), 1, 64),
  /** Cache of the package managers (pnpm, yarn) runs may use; see prepareToolchain. Default: under the temp dir. */
  SANDBOX_TOOLCHAIN_DIR: optionalString,
  /**
   * GitHub's REST API: https://api.github.com (default), or a GitHub Enterprise Server's `https://HOST/api/v3`.
   * Clone URLs follow it (`https://HOST/owner/name.git`).
   */
  GITHUB_API_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? "https://api.github.com" : v.replace(/\/+$/, "")))
    .pipe(
      z
        .string()
        .refine((v) => URL.canParse(v), "must be a URL such as https://github.example.com/api/v3")
        .refine((v) => !URL.canParse(v) || /^https?:$/.test(new URL(v).protocol), "must be an http(s) URL")
        .refine(
          (v) => !URL.canParse(v) || (new URL(v).search === "" && new URL(v).hash === ""),
          "must have no query or fragment",
        ),
    ),
  APP_ID: optionalString,
  PRIVATE_KEY: optionalString,
  WEBHOOK_SECRET: optionalString,
  OPERATOR_TOKEN: optionalString,
  SENTRY_DSN: optionalString,
  PORT: num(3000, 1, 65_535),
  METRICS_PORT: num(9464, 1, 65_535),
  COLLECT_TARGET: num(50_000, 1, 1e9),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join("\n")}`);
  }
  if (parsed.data.ML_CONFIDENCE_THRESHOLD > parsed.data.ML_AUTO_APPLY_THRESHOLD) {
    throw new ConfigError("invalid environment:\n  ML_CONFIDENCE_THRESHOLD: must not exceed ML_AUTO_APPLY_THRESHOLD");
  }
  return parsed.data;
}

/**
 * Where local state (the embedded database, the demo repository, reports) lives when ODAVL_DATA_DIR is not set:
 * $XDG_DATA_HOME/odavl, else ~/.local/share/odavl. Never the working directory.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "odavl");
  return join(env.HOME || homedir(), ".local", "share", "odavl");
}
