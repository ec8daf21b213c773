/**
 * `odavl shadow`: public repositories the operators run in shadow mode. Their cycles go through the same queue
 * as installed ones and never call GitHub (no check run, no pull request, no comment).
 *
 *   odavl shadow add <owner/name | git URL | path> [--name owner/name] [--data-collection | --no-data-collection]
 *                    [--schedule daily|weekly|off|"<cron>"] [--run]
 *   odavl shadow run <owner/name>
 *   odavl shadow list
 *   odavl shadow remove <owner/name>
 */
import { existsSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { basename, resolve } from "node:path";
import type { Queue } from "bullmq";
import { readEnv } from "../../config/env.js";
import { type DbHandle, openDb } from "../../db/client.js";
import { findRepository, type RepositoryRow, setConsent, storedConfig } from "../../db/queries/repositories.js";
import {
  findShadowRepositories,
  forgetShadowRepository,
  registerShadowRepository,
} from "../../db/queries/shadow-repositories.js";
import { CYCLES_QUEUE, type QueueConfig, redisConnection } from "../../queue/config.js";
import { createCyclesQueue, createProducer } from "../../queue/producer.js";
import { createSchedules, cronFor, ScheduleError } from "../../queue/schedules.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { gitOk } from "../../workspace/git.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/** Owner of local checkouts recorded by `odavl cycle` (see commands/cycle.ts; repeated to keep this module light). */
const LOCAL_OWNER = ".local";

export interface ShadowTarget {
  owner: string;
  name: string;
  /** A git URL or an absolute local path. */
  source: string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads `owner/name`, a git URL (https, ssh, scp-like) or a local path into an identity and a source. */
export function parseShadowTarget(target: string, cwd = process.cwd()): ShadowTarget {
  const local = resolve(cwd, target);
  if (existsSync(local)) return { owner: "local", name: basename(local), source: local };
  const slug = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(target);
  if (slug?.[1] && slug[2]) {
    return { owner: slug[1], name: slug[2], source: `https://github.com/${slug[1]}/${slug[2]}.git` };
  }
  let path: string | null = null;
  if (/^(https?|ssh|git):\/\//i.test(target)) {
    const url = new URL(target);
    if (url.password || (url.username && url.protocol.startsWith("http"))) {
      throw new UsageError("shadow repositories are public: give their URL without credentials");
    }
    path = url.pathname;
  } else {
    const scp = /^[^@/\s]+@[^:/\s]+:(.+)$/.exec(target);
    if (scp?.[1]) path = scp[1];
  }
  const parts =
    path
      ?.replace(/^\/+|\/+$/g, "")
      .replace(/\.git$/, "")
      .split("/") ?? [];
  const owner = parts.at(-2);
  const name = parts.at(-1);
  if (!owner || !name || !NAME.test(owner) || !NAME.test(name)) {
    throw new UsageError(`"${target}" is neither owner/name, a git URL of a repository, nor an existing path`);
  }
  return { owner, name, source: target };
}

const FLAGS = SPECS.shadow.options;

export async function shadowCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  const { values, positionals } = parseFlags(rest, FLAGS, 1);
  const env = readEnv(ctx.env);
  const queue: QueueAccess | null = env.REDIS_URL
    ? { url: env.REDIS_URL, config: { ...CYCLES_QUEUE, prefix: env.QUEUE_PREFIX } }
    : null;
  const db = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: `${dataDir(env)}/pgdata`, migrate: true });
  try {
    switch (sub) {
      case "add": {
        const target = positionals[0];
        if (!target) throw new UsageError("usage: odavl shadow add <owner/name | git URL | path>");
        return await add(ctx, db, queue, target, values);
      }
      case "run": {
        const repo = await shadowRepo(db, positionals[0]);
        return await enqueueNow(ctx, queue, repo);
      }
      case "list": {
        // Local checkouts run with `odavl cycle` are recorded too, but are not shadow repositories of the operators.
        const rows = (await findShadowRepositories(db.db)).filter((r) => r.owner !== LOCAL_OWNER);
        for (const r of rows) {
          ctx.stdout.write(
            `${r.owner}/${r.name}\t${r.source ?? ""}\tschedule ${storedConfig(r).schedule}\tdata collection ${r.dataCollection ? "on" : "off"}\n`,
          );
        }
        return 0;
      }
      case "remove": {
        const repo = await shadowRepo(db, positionals[0]);
        await forgetShadowRepository(db.db, repo.owner, repo.name);
        if (queue) {
          await withQueue(queue, async (q) => {
            await createSchedules(q, queue.config).remove([repo.id]);
            await createProducer(q, queue.config).removeRepositoryJobs([repo.id]);
          });
        }
        ctx.stdout.write(`removed ${repo.owner}/${repo.name} and everything stored about it\n`);
        return 0;
      }
      default:
        throw new UsageError("usage: odavl shadow add|run|list|remove … (see odavl --help)");
    }
  } finally {
    await db.close();
  }
}

async function add(
  ctx: CommandContext,
  db: DbHandle,
  queue: QueueAccess | null,
  input: string,
  values: {
    name?: string | undefined;
    "data-collection"?: boolean | undefined;
    "no-data-collection"?: boolean | undefined;
    schedule?: string | undefined;
    run?: boolean | undefined;
  },
): Promise<number> {
  const target = parseShadowTarget(input);
  if (values.name !== undefined) {
    const [owner, name, extra] = values.name.split("/");
    if (!owner || !name || extra !== undefined || !NAME.test(owner) || !NAME.test(name)) {
      throw new UsageError(`--name must be owner/name, got "${values.name}"`);
    }
    target.owner = owner;
    target.name = name;
  }
  if (values["data-collection"] && values["no-data-collection"]) {
    throw new UsageError("--data-collection and --no-data-collection contradict each other");
  }
  if (values.schedule !== undefined) {
    try {
      cronFor(0, values.schedule);
    } catch (err) {
      if (err instanceof ScheduleError) throw new UsageError(err.message);
      throw err;
    }
  }
  const existing = await findRepository(db.db, target.owner, target.name);
  if (
    existing?.mode === "shadow" &&
    existing.source !== null &&
    existing.source !== target.source &&
    values.name === undefined
  ) {
    throw new UsageError(
      `${target.owner}/${target.name} is registered from ${existing.source}; give this one another --name owner/name`,
    );
  }
  const repo = await registerShadowRepository(db.db, {
    ...target,
    ...(values.schedule ? { schedule: values.schedule } : {}),
  });
  const consent = values["data-collection"] ? true : values["no-data-collection"] ? false : null;
  if (consent !== null) {
    // Shadow repositories are public: the operators record the consent they obtained elsewhere, as themselves.
    await setConsent(db.db, repo.id, "dataCollection", consent, { source: "operator", actor: operator() });
  }
  ctx.stdout.write(`registered ${repo.owner}/${repo.name} in shadow mode from ${repo.source}\n`);
  if (!queue) {
    ctx.stderr.write("note: REDIS_URL is not set: no schedule was created and nothing was queued\n");
    return 0;
  }
  const schedule = storedConfig(repo).schedule;
  await withQueue(queue, (q) => createSchedules(q, queue.config).upsert(repo, schedule));
  ctx.stdout.write(`schedule: ${schedule}\n`);
  return values.run ? enqueueNow(ctx, queue, repo) : 0;
}

async function shadowRepo(db: DbHandle, slug: string | undefined): Promise<RepositoryRow> {
  const [owner, name] = slug?.split("/") ?? [];
  if (!owner || !name) throw new UsageError("which repository? give owner/name (see odavl shadow list)");
  const repo = await findRepository(db.db, owner, name);
  if (repo?.mode !== "shadow") throw new UsageError(`${owner}/${name} is not a shadow repository`);
  return repo;
}

/** Queues a cycle of the source's current head now (the job id names that sha: a second run collapses). */
async function enqueueNow(ctx: CommandContext, queue: QueueAccess | null, repo: RepositoryRow): Promise<number> {
  if (!queue) throw new UsageError("REDIS_URL is required to queue a cycle");
  if (!repo.source) throw new UsageError(`${repo.owner}/${repo.name} has no source`);
  const sha = await headOf(repo.source);
  const jobId = await withQueue(queue, (q) =>
    createProducer(q, queue.config).enqueueCycle(
      { repositoryId: repo.id, repository: `${repo.owner}/${repo.name}`, sha, trigger: "shadow" },
      { trigger: "shadow" },
    ),
  );
  ctx.stdout.write(`queued ${jobId}\n`);
  return 0;
}

interface QueueAccess {
  url: string;
  config: QueueConfig;
}

async function withQueue<T>(access: QueueAccess, f: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = createCyclesQueue(access.config, redisConnection(access.url, "producer"));
  try {
    return await f(queue);
  } finally {
    await queue.close();
  }
}

async function headOf(source: string): Promise<string> {
  const options = { cwd: tmpdir(), timeoutMs: 60_000, target: source };
  const out = existsSync(source)
    ? await gitOk(["-C", source, "rev-parse", "--verify", "HEAD^{commit}"], { ...options, operation: "rev-parse" })
    : await gitOk(["ls-remote", "--end-of-options", source, "HEAD"], { ...options, operation: "ls-remote" });
  const sha = /^[0-9a-f]{40}/.exec(out.trim())?.[0];
  if (!sha) throw new UsageError(`could not read the head of ${source}`);
  return sha;
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return "operator";
  }
}
