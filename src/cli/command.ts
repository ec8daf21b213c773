/**
 * What every command gets and shares: its context (arguments, environment, output streams) and the flag parser
 * that turns a bad flag into a one-line usage error.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

export interface CommandContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** parseArgs with our error type, so a bad flag prints one line rather than a stack. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: O,
  positionals = 0,
) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw new UsageError(cleanParseError((err as Error).message));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  }
  return parsed;
}

/** Node's messages, without the advice about "--" (the quote it opens is never closed). */
function cleanParseError(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown option '${unknown[1]}'`;
  const missing = /^Option '(?:-\w, )?(--[^ ]+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  return message.split(". To specify")[0] ?? message;
}
