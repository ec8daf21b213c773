import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { finished } from "node:stream/promises";
import { type EXPORT_FORMATS, exportDataset, parseExportFormat, streamWriter } from "../../analytics/export.js";
import { AnalyticsOptionError, parseDateOption } from "../../analytics/options.js";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/**
 * `odavl export --format jsonl|csv [--since DATE] [--out FILE]`: the retraining dataset, streamed to FILE or to
 * standard output. The summary goes to standard error, so that standard output holds only the data.
 */
export async function exportCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, SPECS.export.options);
  let format: (typeof EXPORT_FORMATS)[number];
  let since: Date | undefined;
  try {
    format = parseExportFormat(values.format);
    if (values.since !== undefined) since = parseDateOption("--since", values.since);
  } catch (err) {
    if (err instanceof AnalyticsOptionError) throw new UsageError(err.message);
    throw err;
  }
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  const path = values.out === undefined ? null : resolve(values.out);
  try {
    if (path) await mkdir(dirname(path), { recursive: true });
    const out = path ? createWriteStream(path) : ctx.stdout;
    let result: Awaited<ReturnType<typeof exportDataset>>;
    try {
      result = await exportDataset(handle.db, { format, since }, streamWriter(out));
    } catch (err) {
      // `odavl export … | head`: the reader had enough. Not a failure of the export, and nothing to say about it
      // (as with any Unix filter whose reader stops early).
      if ((err as NodeJS.ErrnoException).code === "EPIPE") return 0;
      throw err;
    }
    if (path) {
      out.end();
      await finished(out);
    }
    ctx.stderr.write(
      `exported ${result.rows} rows (feature schema v${result.featureSchemaVersion}, ${format})${path ? ` to ${path}` : ""}${
        result.converted ? `; ${result.converted} of them stored in schema v2, converted` : ""
      }${
        result.skippedInvalid
          ? `; left out ${result.skippedInvalid} rows with an invalid feature vector (see odavl check-data)`
          : ""
      }\n`,
    );
    return 0;
  } finally {
    await handle.close();
  }
}
