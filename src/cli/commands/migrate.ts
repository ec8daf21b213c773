import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";

export async function migrateCommand(ctx: CommandContext): Promise<number> {
  parseFlags(ctx.argv, {});
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: dataDir(env), migrate: true });
  ctx.stdout.write(`migrations applied (${handle.kind}: ${handle.location})\n`);
  await handle.close();
  return 0;
}
