import { join } from "node:path";
import {
  type DataCheckThresholds,
  DEFAULT_CHECK_THRESHOLDS,
  renderDataChecks,
  runDataChecks,
} from "../../analytics/checks.js";
import { AnalyticsOptionError, parseNumberOption } from "../../analytics/options.js";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/** Flag, threshold, and the values the flag takes. */
const THRESHOLD_FLAGS = [
  ["stale-hours", "staleAfterHours", { min: 0, max: 24 * 365 }],
  ["max-stale-share", "maxStaleShare", { min: 0, max: 1 }],
  ["min-completion", "minCompletion", { min: 0, max: 1 }],
  ["min-model-usage", "minModelUsage", { min: 0, max: 1 }],
  ["max-latency-p99-ms", "maxLatencyP99Ms", { min: 0, max: 3_600_000 }],
  ["window-days", "windowDays", { min: 1, max: 365 }],
  ["max-accuracy-drop", "maxAccuracyDropPoints", { min: 0, max: 100 }],
  ["min-accuracy-samples", "minAccuracySamples", { min: 1, max: 1e9, integer: true }],
  ["max-duplicates", "maxDuplicates", { min: 0, max: 1e12, integer: true }],
  ["max-invalid-vectors", "maxInvalidVectors", { min: 0, max: 1e12, integer: true }],
] as const satisfies readonly (readonly [
  string,
  keyof DataCheckThresholds,
  { min: number; max: number; integer?: boolean },
])[];

/** `odavl check-data`: the daily data check; exit code 1 when any check fails, so that cron can alert. */
export async function checkDataCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, SPECS["check-data"].options);
  const thresholds: Partial<DataCheckThresholds> = {};
  try {
    for (const [flag, key, range] of THRESHOLD_FLAGS) {
      const v = (values as Record<string, unknown>)[flag];
      if (typeof v === "string") thresholds[key] = parseNumberOption(`--${flag}`, v, range);
    }
  } catch (err) {
    if (err instanceof AnalyticsOptionError) throw new UsageError(err.message);
    throw err;
  }
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    const report = await runDataChecks(handle.db, {
      thresholds: { ...DEFAULT_CHECK_THRESHOLDS, ...thresholds },
      tiers: { review: env.ML_CONFIDENCE_THRESHOLD, autoApply: env.ML_AUTO_APPLY_THRESHOLD },
    });
    ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderDataChecks(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await handle.close();
  }
}
