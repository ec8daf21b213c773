import { join, resolve } from "node:path";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { runTrainCommand } from "../../model/train/command.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/** `--dataset a.jsonl.gz,b.jsonl.gz`: the files in order, resolved. */
function datasetPaths(value: string): string[] {
  const paths = value.split(",").map((p) => p.trim());
  if (paths.some((p) => p === "")) throw new UsageError(`--dataset: an empty file name in "${value}"`);
  return paths.map((p) => resolve(p));
}

export async function trainCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, SPECS.train.options);
  if (values.version !== undefined) {
    throw new UsageError(
      "--version is gone: a model's version is the hash of its content; use --name to choose the file name",
    );
  }
  const env = readEnv(ctx.env);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const datasets = typeof values.dataset === "string" ? datasetPaths(values.dataset) : undefined;
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    const result = await runTrainCommand(
      {
        outDir: resolve(typeof values.out === "string" ? values.out : "models"),
        ...(datasets ? { datasets } : {}),
        ...(typeof values.name === "string" ? { name: values.name } : {}),
        ...(seed !== undefined ? { seed } : {}),
        promote: values.promote === true,
        force: values.force === true,
      },
      { db: handle.db },
    );
    ctx.stdout.write(`${result.lines.join("\n")}\n`);
    return 0;
  } finally {
    await handle.close();
  }
}
