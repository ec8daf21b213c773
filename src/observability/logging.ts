/**
 * Log lines of a job carry what identifies it: delivery id, job id, repository and sha.
 *
 * The job processors log through a child logger bound to those fields. The collaborators they call (dependency
 * install, the predictor, Probot's GitHub client) were built once per process with the process's logger, before any
 * job: the logger's mixin adds the running job's fields (kept in an AsyncLocalStorage for the job's duration) to
 * their lines too, unless the line's logger already binds them.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type Logger, type LoggerOptions, pino } from "pino";
import type { JobTags } from "./sentry.js";

const current = new AsyncLocalStorage<JobTags>();

/** Runs `f` as the job's work: every line logged meanwhile (through {@link createLogger}'s loggers) carries `tags`. */
export function withJobContext<T>(tags: JobTags, f: () => Promise<T>): Promise<T> {
  return current.run({ ...tags }, f);
}

/** The job's commit became known (a scheduled cycle resolves its default branch's head): later lines carry it. */
export function setJobSha(sha: string): void {
  const store = current.getStore();
  if (store) store.sha = sha;
}

/** The pino mixin: the running job's tags that the line's logger does not already bind. */
function jobContextMixin(_merge: object, _level: number, logger: { bindings(): Record<string, unknown> }) {
  const store = current.getStore();
  if (!store) return {};
  const bound = logger.bindings();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(store)) if (!(k in bound)) out[k] = v;
  return out;
}

/** A process's logger (pino, JSON lines), with the job context mixin. */
export function createLogger(
  o: { level: string; base: Record<string, unknown> } & Pick<LoggerOptions, "name">,
): Logger {
  return pino({ ...o, mixin: jobContextMixin as NonNullable<LoggerOptions["mixin"]> });
}
