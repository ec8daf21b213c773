/**
 * The `odavl` command. Thin: answers --help and --version, checks the arguments and the environment, then loads
 * one command's module (and with it the engine) and runs it. Everything before the load imports nothing heavy, so
 * that help and argument errors answer at once.
 */
import { readFileSync } from "node:fs";
import { type CommandContext, parseFlags } from "./command.js";
import { describeConnectionError } from "./failures.js";
import { checkDemoDir, checkRepository } from "./repo-check.js";
import { type CommandName, type CommandSpec, commandHelp, isCommand, SPECS, usage } from "./spec.js";
import { UsageError } from "./usage-error.js";

type Command = (ctx: CommandContext) => Promise<number>;

const LOADERS: Record<CommandName, () => Promise<Command>> = {
  cycle: async () => (await import("./commands/cycle.js")).cycleCommand,
  demo: async () => (await import("./commands/cycle.js")).demoCommand,
  collect: async () => (await import("./commands/collect.js")).collectCommand,
  train: async () => (await import("./commands/train.js")).trainCommand,
  model: async () => (await import("./commands/model.js")).modelCommand,
  recipes: async () => (await import("./commands/recipes.js")).recipesCommand,
  migrate: async () => (await import("./commands/migrate.js")).migrateCommand,
  progress: async () => (await import("./commands/progress.js")).progressCommand,
  "check-data": async () => (await import("./commands/check-data.js")).checkDataCommand,
  report: async () => (await import("./commands/report.js")).reportCommand,
  export: async () => (await import("./commands/export.js")).exportCommand,
  web: async () => (await import("./commands/web.js")).webCommand,
  worker: async () => (await import("./commands/worker.js")).workerCommand,
  shadow: async () => (await import("./commands/shadow.js")).shadowCommand,
};

/** The package's version (package.json sits two levels above both src/cli and dist/cli). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The environment commands see: ODAVL_DATA_DIR defaults to the platform's data directory (never the working
 * directory), and ONNX Runtime's telemetry is off (it leaves mat-debug-<pid>.log and .ses files in /tmp).
 */
export async function commandEnv(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const { defaultDataDir } = await import("../config/env.js");
  return {
    ...env,
    ODAVL_DATA_DIR: env.ODAVL_DATA_DIR || defaultDataDir(env),
    ORT_DISABLE_TELEMETRY: env.ORT_DISABLE_TELEMETRY ?? "1",
  };
}

const wantsHelp = (argv: readonly string[]) => {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
};

export async function main(ctx: CommandContext): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (name === "--version" || name === "-v" || name === "version") {
    ctx.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = rest[0];
    if (topic && isCommand(topic)) ctx.stdout.write(commandHelp(topic));
    else if (topic) {
      ctx.stderr.write(`odavl: unknown command "${topic}"\n\n${usage()}\n`);
      return 2;
    } else ctx.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (!name) {
    ctx.stderr.write(`${usage()}\n`);
    return 2;
  }
  if (!isCommand(name)) {
    const near = Object.keys(SPECS).find((c) => c.startsWith(name.slice(0, 3)));
    ctx.stderr.write(
      `odavl: unknown command "${name}"${near ? ` (did you mean "${near}"?)` : ""}\n\nodavl --help lists the commands.\n`,
    );
    return 2;
  }
  if (wantsHelp(rest)) {
    ctx.stdout.write(commandHelp(name));
    return 0;
  }
  // The settings' schema (zod) loads only here: --help and --version answer without it.
  const env = await commandEnv(ctx.env);
  // ONNX Runtime reads its telemetry switch from the process's own environment (main may run in-process).
  process.env.ORT_DISABLE_TELEMETRY ??= env.ORT_DISABLE_TELEMETRY;
  const { ConfigError, readEnv } = await import("../config/env.js");
  try {
    precheck(name, rest);
    readEnv(env);
    const command = await LOADERS[name]();
    return await command({ ...ctx, env, argv: rest });
  } catch (err) {
    return reportError(ctx, name, env, err, err instanceof ConfigError);
  }
}

/** Arguments and paths checked before the command's module loads. */
function precheck(name: CommandName, argv: string[]): void {
  const spec: CommandSpec = SPECS[name];
  const subcommands = spec.subcommands;
  let args = argv;
  if (subcommands) {
    const sub = argv[0];
    if (sub === undefined || !subcommands.includes(sub)) {
      throw new UsageError(
        `${sub === undefined ? "which subcommand?" : `unknown subcommand "${sub}";`} usage: ${spec.usage}`,
      );
    }
    args = argv.slice(1);
  }
  const { values, positionals } = parseFlags(args, spec.options, spec.positionals);
  if (name === "cycle") {
    if (!positionals[0]) throw new UsageError(`which repository? usage: ${spec.usage}`);
    checkRepository(resolvePath(positionals[0]), { allowDirty: values["allow-dirty"] === true });
  }
  if (name === "demo" && typeof values.dir === "string") checkDemoDir(resolvePath(values.dir));
  if (name === "collect" && !positionals[0]) throw new UsageError(`which list? usage: ${spec.usage}`);
}

function resolvePath(p: string): string {
  return p.startsWith("/") ? p : `${process.cwd()}/${p}`;
}

/** Expected errors: one line, no stack. Unexpected ones: the stack, and where to report it. */
function reportError(
  ctx: CommandContext,
  name: string,
  env: NodeJS.ProcessEnv,
  err: unknown,
  isConfigError: boolean,
): number {
  if (isConfigError || err instanceof UsageError) {
    ctx.stderr.write(`odavl ${name}: ${(err as Error).message}\n`);
    if (err instanceof UsageError && /option|argument|needs a value/.test(err.message)) {
      ctx.stderr.write(`(odavl ${name} --help shows the options)\n`);
    }
    return 2;
  }
  const connection = describeConnectionError(err, env);
  if (connection) {
    ctx.stderr.write(`odavl ${name}: ${connection}\n`);
    return 2;
  }
  if (err instanceof Error && err.name.endsWith("Error") && "userFacing" in err) {
    ctx.stderr.write(`odavl ${name}: ${err.message}\n`);
    return 1;
  }
  ctx.stderr.write(
    `odavl ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n\n` +
      `This is a bug in odavl ${version()}: please report it to the project's issue tracker with the command you ran and the output above.\n`,
  );
  return 1;
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
