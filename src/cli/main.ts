/**
 * The `odavl` command. Thin: parses arguments, reads the environment once, builds the runtime, runs a command.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "../config/env.js";

export interface CommandContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

type Command = (ctx: CommandContext) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  cycle: {
    summary: "cycle <path> [--json] [--recipes a,b] [--no-tests] [--no-store] [--scope all|file|both] [--unsandboxed]",
    load: async () => (await import("./commands/cycle.js")).cycleCommand,
  },
  demo: {
    summary: "demo [--json] [--dir DIR] [--no-store]   build a sample repository with real problems and run a cycle",
    load: async () => (await import("./commands/cycle.js")).demoCommand,
  },
  recipes: {
    summary: "recipes [--json] [--family ts-codefix|eslint|biome]   the recipe catalog: id, safety, category, title",
    load: async () => (await import("./commands/recipes.js")).recipesCommand,
  },
  collect: {
    summary:
      "collect <list-file> [--max-cycles N] [--concurrency K] [--continuous] [--tests all|all-scope|none] [--in-process]   shadow cycles over public repositories",
    load: async () => (await import("./commands/collect.js")).collectCommand,
  },
  train: {
    summary:
      "train [--out DIR] [--dataset FILE] [--version V] [--promote] [--force]   train the trust model on stored outcomes",
    load: async () => (await import("./commands/train.js")).trainCommand,
  },
  model: {
    summary: "model list | current | promote <version> [--force]   the model registry",
    load: async () => (await import("./commands/model.js")).modelCommand,
  },
  migrate: {
    summary: "migrate   apply the database migrations (Postgres from DATABASE_URL, or embedded PGlite)",
    load: async () => (await import("./commands/migrate.js")).migrateCommand,
  },
  progress: {
    summary: "progress [--json] [--target N] [--top N]   samples recorded against the target, rate and ETA",
    load: async () => (await import("./commands/progress.js")).progressCommand,
  },
  "check-data": {
    summary:
      "check-data [--json] [--stale-hours N] [--min-completion X] [--min-model-usage X] [--max-latency-p99-ms N] [--window-days N] [--max-accuracy-drop N] ...   daily data check; exit 1 when a check fails",
    load: async () => (await import("./commands/check-data.js")).checkDataCommand,
  },
  report: {
    summary:
      "report [--out DIR] [--json] [--since DATE] [--until DATE] [--min-samples N]   ACCURACY_REPORT.md and report.html",
    load: async () => (await import("./commands/report.js")).reportCommand,
  },
  export: {
    summary: "export --format jsonl|csv [--since DATE] [--out FILE]   the retraining dataset, streamed",
    load: async () => (await import("./commands/export.js")).exportCommand,
  },
  web: {
    summary:
      "web   the GitHub App's web process: verifies and records webhooks, queues cycles (PORT, WEBHOOK_SECRET, DATABASE_URL, REDIS_URL)",
    load: async () => (await import("./commands/web.js")).webCommand,
  },
  worker: {
    summary:
      "worker [--concurrency N] [--no-tests] [--no-install] [--unsandboxed]   run queued cycles and fixes until SIGTERM",
    load: async () => (await import("./commands/worker.js")).workerCommand,
  },
  shadow: {
    summary:
      "shadow add <owner/name | git URL | path> [--name o/n] [--data-collection] [--schedule S] [--run] | run <o/n> | list | remove <o/n>   read-only repositories run by the operators",
    load: async () => (await import("./commands/shadow.js")).shadowCommand,
  },
};

export function usage(): string {
  const lines = ["usage: odavl <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS))
    lines.push(`  ${c.summary.startsWith(name) ? "" : `${name} `}${c.summary}`);
  return lines.join("\n");
}

export async function main(ctx: CommandContext): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    ctx.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    ctx.stderr.write(`odavl: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await command.load())({ ...ctx, argv: rest });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      ctx.stderr.write(`odavl ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && err.name.endsWith("Error") && "userFacing" in err) {
      ctx.stderr.write(`odavl ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** parseArgs with our error type, so a bad flag prints usage rather than a stack. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: O,
  positionals = 0,
) {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
    if (parsed.positionals.length > positionals) {
      throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
    }
    return parsed;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

const isEntry = process.argv[1] && /(?:odavl(?:\.js)?|main\.[jt]s)$/.test(process.argv[1]);
if (isEntry) {
  main({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`odavl: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
