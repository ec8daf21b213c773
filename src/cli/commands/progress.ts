import { join } from "node:path";
import { AnalyticsOptionError, parseNumberOption } from "../../analytics/options.js";
import { DEFAULT_TOP, loadProgress, renderProgress } from "../../analytics/progress.js";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/** `odavl progress [--json] [--target N] [--top N]`: data collection against the target (COLLECT_TARGET). */
export async function progressCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, SPECS.progress.options);
  const env = readEnv(ctx.env);
  let target: number;
  let top: number;
  try {
    target =
      values.target === undefined
        ? env.COLLECT_TARGET
        : parseNumberOption("--target", values.target, { min: 1, max: 1e9, integer: true });
    top =
      values.top === undefined
        ? DEFAULT_TOP
        : parseNumberOption("--top", values.top, { min: 1, max: 10_000, integer: true });
  } catch (err) {
    if (err instanceof AnalyticsOptionError) throw new UsageError(err.message);
    throw err;
  }
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    const progress = await loadProgress(handle.db, { target, top });
    ctx.stdout.write(values.json ? `${JSON.stringify(progress, null, 2)}\n` : `${renderProgress(progress)}\n`);
    return 0;
  } finally {
    await handle.close();
  }
}
