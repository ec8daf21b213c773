import { join } from "node:path";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import {
  currentModel,
  listModels,
  ModelNotFoundError,
  PromotionRefusedError,
  promoteModel,
} from "../../model/registry.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

export async function modelCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  const { values, positionals } = parseFlags(rest, SPECS.model.options, 1);
  if (sub !== "list" && sub !== "current" && sub !== "promote") {
    throw new UsageError("usage: odavl model list | current | promote <version> [--force]");
  }
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    if (sub === "list") {
      const rows = await listModels(handle.db);
      if (values.json) ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) ctx.stdout.write("no models registered (odavl train registers one)\n");
      else {
        for (const m of rows) {
          const auc = m.metrics.auc === undefined ? "n/a" : m.metrics.auc.toFixed(3);
          const ll = m.metrics.logLoss === undefined ? "n/a" : m.metrics.logLoss.toFixed(3);
          ctx.stdout.write(
            `${m.status === "current" ? "*" : " "} ${m.version.padEnd(28)} ${m.kind.padEnd(10)} ${m.status.padEnd(9)} AUC ${auc} log-loss ${ll}  ${m.path}\n`,
          );
        }
      }
      return 0;
    }
    if (sub === "current") {
      const m = await currentModel(handle.db);
      ctx.stdout.write(
        m
          ? `${values.json ? JSON.stringify(m) : `${m.version} (${m.kind}) ${m.path}`}\n`
          : "no current model: the shipped default is used\n",
      );
      return 0;
    }
    const version = positionals[0];
    if (!version) throw new UsageError("usage: odavl model promote <version> [--force]");
    try {
      const r = await promoteModel(handle.db, version, { force: values.force === true });
      ctx.stdout.write(`promoted ${r.promoted.version}${r.previous ? `, retired ${r.previous.version}` : ""}\n`);
      for (const o of r.overridden) ctx.stdout.write(`  overridden: ${JSON.stringify(o)}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ModelNotFoundError) {
        ctx.stderr.write(`odavl model promote: ${err.message} (odavl model list shows the registered versions)\n`);
        return 1;
      }
      if (err instanceof PromotionRefusedError) {
        ctx.stderr.write(`odavl model promote: ${err.message}\n(use --force to promote anyway)\n`);
        return 1;
      }
      throw err;
    }
  } finally {
    await handle.close();
  }
}
