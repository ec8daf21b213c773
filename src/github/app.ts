/**
 * The webhook handlers of the web process. Every handler answers at once: it records the delivery, registers what
 * the event says about the installation, and enqueues a job with a deterministic id; the worker does the rest.
 * GitHub neither redelivers failed webhooks nor orders them, so each handler is idempotent and none depends on
 * another having run (a push from a repository whose installation event was lost registers the repository).
 *
 * The hot path (a push or pull request of a registered repository) costs two statements and one queue add: the
 * delivery is recorded and the repository read in one statement ({@link receiveDelivery}), the job is added, and
 * the delivery is marked done. Registering (a transaction) and the repository's schedule (a scheduler upsert in
 * Redis) are only redone when the event says something the stored rows do not, or after
 * {@link SCHEDULE_RECHECK_MS}.
 *
 * The maintainers' answers to fixes need no job: a fix's pull request closed (merged or not) and a push whose
 * commits revert a merged fix are each recorded in one statement (src/db/queries/fix-labels.ts). Other pull
 * requests closed, and pushes without a revert message, touch nothing.
 *
 * Payloads are validated before anything is stored: a delivery that lacks what its handler needs is refused
 * ({@link WebhookPayloadError}, answered 400), never half handled.
 */
import type { Logger } from "pino";
import { pino } from "pino";
import type { ApplicationFunction } from "probot";
import { z } from "zod";
import type { Db } from "../db/client.js";
import {
  type DeliveryInput,
  type DeliveryReceipt,
  type ExpectedRepository,
  finishDelivery,
  receiveDelivery,
} from "../db/queries/deliveries.js";
import { closeFixPullRequest, looksLikeRevert, markFixesReverted } from "../db/queries/fix-labels.js";
import {
  forgetInstallation,
  forgetRepositories,
  type InstallationInput,
  registerRepositories,
  setInstallationSuspended,
} from "../db/queries/installations.js";
import { type RepositoryRow, storedConfig } from "../db/queries/repositories.js";
import { recipeForAction } from "./actions.js";
import { FIX_BRANCH_PREFIX } from "./api.js";
import { httpCloneUrl } from "./octokit.js";
import type { EventCycleJob, EventCycleKey, RepositorySchedules, WebhookJobs } from "./ports.js";

export interface AppDeps {
  db: Db;
  /**
   * Where the delivery log is written (each delivery's receipt and its result): the web gives it a pool that
   * commits without waiting for the WAL flush, since a lost row only means a redelivery is handled again, which
   * every handler allows. Default: `db`.
   */
  deliveryLog?: Db;
  /** The queue's producer and job schedulers (src/queue), passed in by the entry point. */
  jobs: WebhookJobs;
  schedules: RepositorySchedules;
  /** Where "delivery handled" lines go (silent when absent). */
  logger?: Logger;
}

/** A verified delivery: GitHub's delivery id, the event's name (X-GitHub-Event) and its parsed payload. */
export interface WebhookEvent {
  id: string;
  name: string;
  payload: unknown;
}

export interface WebhookResult {
  /** "enqueued", "ignored", "already handled", "registered 2", "deleted 1", … */
  result: string;
  jobId?: string;
}

export type WebhookHandler = (event: WebhookEvent) => Promise<WebhookResult>;

/** The payload lacks (or has malformed) what its handler needs: the delivery is refused, nothing is stored. */
export class WebhookPayloadError extends Error {
  readonly status = 400;
  constructor(
    readonly event: string,
    readonly issues: string,
  ) {
    super(`${event} payload is invalid: ${issues}`);
    this.name = "WebhookPayloadError";
  }
}

/** A repository's scheduler is upserted again after this long, in case Redis lost it (it is cheap to redo). */
const SCHEDULE_RECHECK_MS = 10 * 60_000;

// What the handlers read from payloads. Text that Postgres cannot store (NUL) or that is longer than GitHub ever
// sends is refused with the rest.
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL");
const name = text(256).min(1);
const githubId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const sha = z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit sha");
const branch = text(1024).min(1);

const repositorySchema = z.object({
  id: githubId,
  name,
  full_name: text(512).min(3),
  default_branch: branch.optional(),
  clone_url: z.string().max(2048).nullable().optional(),
  owner: z
    .object({ login: name, type: text(64).optional() })
    .nullable()
    .optional(),
});
const installationRef = z.object({ id: githubId });
const listedRepository = z.object({ id: githubId, name, full_name: text(512).min(3) });
const pullRequestRef = z.object({ number: githubId });

const pushSchema = z.object({
  ref: text(1024),
  after: sha,
  deleted: z.boolean().optional(),
  // Read only to find reverts of fixes; a push whose commits are not as expected is still a push.
  commits: z
    .array(z.object({ id: z.string(), message: z.string() }))
    .nullable()
    .optional()
    .catch(null),
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const pullRequestSchema = z.object({
  pull_request: z.object({ number: githubId, head: z.object({ sha, ref: branch }) }),
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const pullRequestClosedSchema = z.object({
  pull_request: z.object({
    number: githubId,
    merged: z.boolean().nullable().optional(),
    merge_commit_sha: sha.nullable().optional(),
    closed_at: z.iso.datetime({ offset: true }).nullable().optional(),
    head: z.object({ ref: branch }),
  }),
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const checkSuiteSchema = z.object({
  check_suite: z.object({
    head_sha: sha,
    head_branch: branch.nullable().optional(),
    pull_requests: z.array(pullRequestRef).max(1000).default([]),
  }),
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const checkRunSchema = z.object({
  check_run: z.object({
    id: githubId,
    head_sha: sha,
    pull_requests: z.array(pullRequestRef).max(1000).default([]),
    check_suite: z.object({ head_branch: branch.nullable().optional() }).nullable().optional(),
  }),
  requested_action: z
    .object({ identifier: text(64) })
    .nullable()
    .optional(),
  sender: z.object({ login: name }).nullable().optional(),
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const accountSchema = z
  .object({ login: name.optional(), slug: name.optional(), type: text(64).optional() })
  .nullable()
  .optional();
const installationSchema = z.object({ id: githubId, account: accountSchema });
const installationEventSchema = z.object({
  installation: installationSchema,
  repositories: z.array(listedRepository).max(100_000).nullable().optional(),
});
const repositoryEventSchema = z.object({
  repository: repositorySchema,
  installation: installationRef.nullable().optional(),
});
const repositoriesEventSchema = z.object({
  installation: installationSchema,
  repositories_added: z.array(listedRepository).max(100_000).default([]),
  repositories_removed: z.array(listedRepository).max(100_000).default([]),
});

type RepositoryPayload = z.infer<typeof repositorySchema>;
type InstallationPayload = z.infer<typeof installationSchema>;

function parse<T>(schema: z.ZodType<T>, event: WebhookEvent): T {
  const parsed = schema.safeParse(event.payload);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`)
    .join("; ");
  throw new WebhookPayloadError(event.name, issues);
}

function actionOf(payload: unknown): string | null {
  const action = typeof payload === "object" && payload !== null ? (payload as { action?: unknown }).action : null;
  return typeof action === "string" && action.length <= 64 && !action.includes("\u0000") ? action : null;
}

const IGNORED: WebhookResult = { result: "ignored" };

/** The handlers, keyed by event name and action; anything else is answered and ignored. */
export function createWebhookHandler(deps: AppDeps): WebhookHandler {
  const log = deps.logger ?? pino({ level: "silent" });
  const scheduled = new Map<number, { key: string; at: number }>();
  const ctx: HandlerContext = { deps, log, scheduled, registering: new Map() };
  return async (event) => {
    const action = actionOf(event.payload);
    switch (event.name) {
      case "push":
        return onPush(ctx, event);
      case "pull_request":
        if (action === "closed") return onPullRequestClosed(ctx, event);
        return action === "opened" || action === "reopened" || action === "synchronize"
          ? onPullRequest(ctx, event)
          : IGNORED;
      case "check_suite":
        return action === "rerequested" ? onCheckSuiteRerequested(ctx, event) : IGNORED;
      case "check_run":
        if (action === "rerequested") return onCheckRunRerequested(ctx, event);
        if (action === "requested_action") return onRequestedAction(ctx, event);
        return IGNORED;
      case "installation":
        if (action === "created") return onInstallationCreated(ctx, event);
        if (action === "deleted") return onInstallationDeleted(ctx, event);
        if (action === "suspend" || action === "unsuspend") return onInstallationSuspend(ctx, event, action);
        return IGNORED;
      case "repository":
        if (action === "deleted" || action === "archived") return onRepositoryGone(ctx, event);
        if (action === "renamed" || action === "transferred" || action === "unarchived") {
          return onRepositoryMoved(ctx, event);
        }
        return IGNORED;
      case "installation_repositories":
        if (action === "added") return onRepositoriesAdded(ctx, event);
        if (action === "removed") return onRepositoriesRemoved(ctx, event);
        return IGNORED;
      default:
        return IGNORED;
    }
  };
}

/** The same handlers as a Probot app (for `probot.receive()` and Probot's own middleware). */
export function createApp(deps: AppDeps): ApplicationFunction {
  return (app) => {
    const handle = createWebhookHandler({ ...deps, logger: deps.logger ?? app.log });
    app.onAny(async (context) => {
      await handle({ id: context.id, name: context.name, payload: context.payload });
    });
  };
}

interface HandlerContext {
  deps: AppDeps;
  log: Logger;
  /** Repository id -> the schedule last upserted for it by this process, and when. */
  scheduled: Map<number, { key: string; at: number }>;
  /** Registrations under way, by what the event said: one per repository at a time. */
  registering: Map<string, Promise<RepositoryRow>>;
}

type Handle = (repository: RepositoryRow | null, receipt: DeliveryReceipt) => Promise<WebhookResult>;

/**
 * Runs a handler once per delivery: a delivery whose handling finished is not handled again; one whose handling
 * did not finish (or is still running) is, which is safe because every handler is idempotent.
 */
async function once(
  ctx: HandlerContext,
  event: WebhookEvent,
  meta: Pick<DeliveryInput, "installationId" | "repository">,
  expected: ExpectedRepository | null,
  handle: Handle,
): Promise<WebhookResult> {
  const log = ctx.deps.deliveryLog ?? ctx.deps.db;
  const receipt = await receiveDelivery(
    log,
    { id: event.id, event: event.name, action: actionOf(event.payload), ...meta },
    expected,
  );
  if (receipt.handled) {
    // A redelivery (same delivery id) of a delivery whose job failed for good: the operator asks for it again.
    if (receipt.earlierJobId && (await ctx.deps.jobs.rerunFailed(receipt.earlierJobId))) {
      ctx.log.info({ delivery: event.id, jobId: receipt.earlierJobId }, "redelivery: failed job queued again");
      return { result: "enqueued again", jobId: receipt.earlierJobId };
    }
    ctx.log.info({ delivery: event.id }, "delivery already handled");
    return { result: "already handled" };
  }
  const outcome = await handle(receipt.repository, receipt);
  await finishDelivery(log, event.id, outcome.result, outcome.jobId ?? null);
  ctx.log.info({ delivery: event.id, event: event.name, ...outcome }, "delivery handled");
  return outcome;
}

function ownerOf(r: { full_name: string; owner?: { login: string } | null }): string {
  return r.owner?.login ?? r.full_name.split("/")[0] ?? r.full_name;
}

function expectedOf(installationId: number, r: RepositoryPayload): ExpectedRepository {
  const owner = ownerOf(r);
  return {
    installation: { id: installationId, accountLogin: owner, accountType: r.owner?.type ?? "Organization" },
    repository: {
      githubId: r.id,
      owner,
      name: r.name,
      ...(r.default_branch ? { defaultBranch: r.default_branch } : {}),
    },
  };
}

/**
 * The event's repository row: the one read with the delivery when it is registered as the event says (its
 * schedule upserted again only when it changed or {@link SCHEDULE_RECHECK_MS} passed), otherwise registered now.
 */
async function repositoryFor(
  ctx: HandlerContext,
  expected: ExpectedRepository,
  found: RepositoryRow | null,
): Promise<RepositoryRow> {
  if (found) {
    await ensureSchedule(ctx, found, false);
    return found;
  }
  // Concurrent first deliveries of one repository register it once (they would queue on its rows' locks).
  const key = JSON.stringify(expected);
  const pending = ctx.registering.get(key);
  if (pending) return pending;
  const registering = (async () => {
    const [row] = await registerRepositories(ctx.deps.db, expected.installation, [expected.repository]);
    if (!row) throw new Error(`no repository row for ${expected.repository.owner}/${expected.repository.name}`);
    await ensureSchedule(ctx, row, true);
    return row;
  })();
  ctx.registering.set(key, registering);
  try {
    return await registering;
  } finally {
    ctx.registering.delete(key);
  }
}

async function ensureSchedule(ctx: HandlerContext, row: RepositoryRow, force: boolean): Promise<void> {
  const key = `${row.owner}/${row.name}@${row.configSha ?? ""}`;
  const last = ctx.scheduled.get(row.id);
  const now = Date.now();
  if (!force && last && last.key === key && now - last.at < SCHEDULE_RECHECK_MS) return;
  await ctx.deps.schedules.upsert(row, storedConfig(row).schedule);
  ctx.scheduled.set(row.id, { key, at: now });
}

async function onPush(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(pushSchema, event);
  if (p.deleted || /^0+$/.test(p.after) || !p.ref.startsWith("refs/heads/")) return IGNORED;
  const branch = p.ref.slice("refs/heads/".length);
  // A commit that reverts a merged fix, on whatever branch the fix went into: one statement, only for such pushes.
  const reverts = (p.commits ?? [])
    .filter((c) => looksLikeRevert(c.message))
    .map((c) => ({ sha: c.id, message: c.message.replaceAll("\u0000", "").slice(0, 20_000) }));
  const installationId = p.installation?.id;
  const markReverted =
    reverts.length === 0 || installationId === undefined
      ? null
      : async (): Promise<string> => {
          const numbers = await markFixesReverted(ctx.deps.db, {
            githubRepositoryId: p.repository.id,
            branch,
            commits: reverts,
            at: new Date(),
          });
          return numbers.length === 0 ? "" : `reverted ${numbers.map((n) => `#${n}`).join(", ")}`;
        };
  // Cycles only on the default branch: other branches are checked through their pull requests.
  if (branch !== p.repository.default_branch) {
    if (!markReverted || installationId === undefined) return IGNORED;
    const meta = { installationId, repository: p.repository.full_name };
    return once(ctx, event, meta, null, async () => ({ result: (await markReverted()) || "ignored" }));
  }
  return enqueueEventCycle(ctx, event, p, { sha: p.after, trigger: "push", branch }, { trigger: "push" }, markReverted);
}

/**
 * A pull request closed: when it is a fix's (its branch is one of ours and it is stored), merged or closed
 * unmerged is recorded beside its predictions. One statement, in the web process; nothing is queued.
 */
async function onPullRequestClosed(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const head = (event.payload as { pull_request?: { head?: { ref?: unknown } } } | null)?.pull_request?.head?.ref;
  if (typeof head !== "string" || !head.startsWith(FIX_BRANCH_PREFIX)) return IGNORED;
  const p = parse(pullRequestClosedSchema, event);
  const installationId = p.installation?.id;
  if (installationId === undefined) return IGNORED;
  const pr = p.pull_request;
  const meta = { installationId, repository: p.repository.full_name };
  return once(ctx, event, meta, null, async () => {
    const state = await closeFixPullRequest(ctx.deps.db, {
      githubRepositoryId: p.repository.id,
      number: pr.number,
      branch: pr.head.ref,
      merged: pr.merged === true,
      mergeSha: pr.merged === true ? (pr.merge_commit_sha ?? null) : null,
      closedAt: pr.closed_at ? new Date(pr.closed_at) : new Date(),
    });
    return { result: state === null ? "ignored" : `${state} #${pr.number}` };
  });
}

async function onPullRequest(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(pullRequestSchema, event);
  const head = p.pull_request.head;
  return enqueueEventCycle(
    ctx,
    event,
    p,
    { sha: head.sha, trigger: "pull_request", pullRequest: p.pull_request.number, branch: head.ref },
    { trigger: "pull_request" },
  );
}

async function onCheckSuiteRerequested(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(checkSuiteSchema, event);
  const suite = p.check_suite;
  return enqueueRerequest(ctx, event, p, {
    sha: suite.head_sha,
    pullRequest: suite.pull_requests[0]?.number ?? null,
    branch: suite.head_branch ?? null,
  });
}

async function onCheckRunRerequested(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(checkRunSchema, event);
  const run = p.check_run;
  return enqueueRerequest(ctx, event, p, {
    sha: run.head_sha,
    pullRequest: run.pull_requests[0]?.number ?? null,
    branch: run.check_suite?.head_branch ?? null,
  });
}

type RepositoryEvent = { repository: RepositoryPayload; installation?: { id: number } | null | undefined };

/** A maintainer asked for the check again (suite or run): a manual cycle at that head. */
function enqueueRerequest(
  ctx: HandlerContext,
  event: WebhookEvent,
  p: RepositoryEvent,
  head: { sha: string; pullRequest: number | null; branch: string | null },
): Promise<WebhookResult> {
  return enqueueEventCycle(ctx, event, p, { ...head, trigger: "manual" }, { trigger: "manual", deliveryId: event.id });
}

/**
 * The path of every event that asks for a cycle: once per delivery, the event's repository (registered first when
 * the stored rows do not agree with the event), then its cycle job. Events of no installation are ignored.
 */
async function enqueueEventCycle(
  ctx: HandlerContext,
  event: WebhookEvent,
  p: RepositoryEvent,
  cycle: Pick<EventCycleJob, "sha" | "trigger" | "pullRequest" | "branch">,
  key: EventCycleKey,
  /** Something else the event records (a revert of a fix): what it did, added to the delivery's result. */
  alsoRecord: (() => Promise<string>) | null = null,
): Promise<WebhookResult> {
  const installationId = p.installation?.id;
  if (installationId === undefined) return IGNORED;
  const expected = expectedOf(installationId, p.repository);
  const meta = { installationId, repository: p.repository.full_name };
  return once(ctx, event, meta, expected, async (found, receipt) => {
    const repo = await repositoryFor(ctx, expected, found);
    const jobId = await ctx.deps.jobs.enqueueCycle(
      {
        repositoryId: repo.id,
        repository: p.repository.full_name,
        cloneUrl: httpCloneUrl(p.repository.clone_url),
        ...cycle,
        deliveryId: event.id,
      },
      key,
    );
    const also = alsoRecord ? await alsoRecord() : "";
    const suffix = also ? `; ${also}` : "";
    // A repeat of a delivery whose first handling did not finish (answered 503), whose job meanwhile failed for
    // good: BullMQ ignored the add, so that job runs again rather than the delivery being silently dropped.
    if (!receipt.first && (await ctx.deps.jobs.rerunFailed(jobId))) {
      return { result: `enqueued again${suffix}`, jobId };
    }
    return { result: `enqueued${suffix}`, jobId };
  });
}

async function onRequestedAction(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(checkRunSchema, event);
  const installationId = p.installation?.id;
  const identifier = p.requested_action?.identifier;
  const requestedBy = p.sender?.login;
  // Only our buttons: an identifier we did not make names nothing we can apply.
  if (installationId === undefined || !identifier || !requestedBy || !recipeForAction(identifier)) return IGNORED;
  const expected = expectedOf(installationId, p.repository);
  const meta = { installationId, repository: p.repository.full_name };
  return once(ctx, event, meta, expected, async (found) => {
    const repo = await repositoryFor(ctx, expected, found);
    const jobId = await ctx.deps.jobs.enqueueApply({
      repositoryId: repo.id,
      repository: p.repository.full_name,
      cloneUrl: httpCloneUrl(p.repository.clone_url),
      checkRunId: p.check_run.id,
      headSha: p.check_run.head_sha,
      headBranch: p.check_run.check_suite?.head_branch ?? null,
      pullRequests: p.check_run.pull_requests.map((pr) => pr.number),
      action: identifier,
      requestedBy,
      deliveryId: event.id,
    });
    return { result: "enqueued", jobId };
  });
}

function installationOf(i: InstallationPayload): InstallationInput {
  return {
    id: i.id,
    accountLogin: i.account?.login ?? i.account?.slug ?? String(i.id),
    accountType: i.account?.type ?? "Organization",
  };
}

/** Registers repositories listed by an installation event and gives each its schedule. */
async function registerListed(
  ctx: HandlerContext,
  installation: InstallationPayload,
  listed: readonly { id: number; name: string; full_name: string }[],
): Promise<RepositoryRow[]> {
  const rows = await registerRepositories(
    ctx.deps.db,
    installationOf(installation),
    listed.map((r) => ({ githubId: r.id, owner: ownerOf(r), name: r.name })),
  );
  for (const row of rows) await ensureSchedule(ctx, row, true);
  return rows;
}

async function onInstallationCreated(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(installationEventSchema, event);
  return once(ctx, event, { installationId: p.installation.id, repository: null }, null, async () => {
    const rows = await registerListed(ctx, p.installation, p.repositories ?? []);
    return { result: `registered ${rows.length}` };
  });
}

async function onRepositoriesAdded(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(repositoriesEventSchema, event);
  return once(ctx, event, { installationId: p.installation.id, repository: null }, null, async () => {
    const rows = await registerListed(ctx, p.installation, p.repositories_added);
    return { result: `registered ${rows.length}` };
  });
}

/**
 * Uninstalled: the installation's data goes in one transaction, then its queued jobs and schedules. Were the
 * queue unreachable, the webhook fails (and can be redelivered); the data is gone already, and a job that still
 * runs finds its repository gone and stops.
 */
async function onInstallationDeleted(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(installationEventSchema, event);
  return once(ctx, event, { installationId: p.installation.id, repository: null }, null, async () => {
    const removed = await forgetInstallation(ctx.deps.db, p.installation.id, event.id);
    await forgetQueued(ctx, removed);
    return { result: `deleted ${removed.length}` };
  });
}

async function onRepositoriesRemoved(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(repositoriesEventSchema, event);
  return once(ctx, event, { installationId: p.installation.id, repository: null }, null, async () => {
    const removed = await forgetRepositories(
      ctx.deps.db,
      p.installation.id,
      p.repositories_removed.map((r) => r.id),
    );
    await forgetQueued(ctx, removed);
    return { result: `deleted ${removed.length}` };
  });
}

async function forgetQueued(ctx: HandlerContext, repositoryIds: readonly number[]): Promise<void> {
  if (repositoryIds.length === 0) return;
  for (const id of repositoryIds) ctx.scheduled.delete(id);
  await ctx.deps.schedules.remove(repositoryIds);
  await ctx.deps.jobs.removeRepositoryJobs(repositoryIds);
}

/**
 * Suspended: the installation's schedules and queued jobs stop (a job already running finds it suspended at its
 * next GitHub call and stops); unsuspended: its repositories are scheduled again.
 */
async function onInstallationSuspend(
  ctx: HandlerContext,
  event: WebhookEvent,
  action: "suspend" | "unsuspend",
): Promise<WebhookResult> {
  const p = parse(installationEventSchema, event);
  return once(ctx, event, { installationId: p.installation.id, repository: null }, null, async () => {
    const rows = await setInstallationSuspended(ctx.deps.db, installationOf(p.installation), action === "suspend");
    if (action === "suspend") {
      await forgetQueued(
        ctx,
        rows.map((r) => r.id),
      );
      return { result: `suspended ${rows.length}` };
    }
    for (const row of rows) if (row.pausedAt === null) await ensureSchedule(ctx, row, true);
    return { result: `resumed ${rows.length}` };
  });
}

/** Deleted or archived on GitHub: the repository is forgotten as when it is removed from the installation. */
async function onRepositoryGone(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(repositoryEventSchema, event);
  const installationId = p.installation?.id;
  if (installationId === undefined) return IGNORED;
  const meta = { installationId, repository: p.repository.full_name };
  return once(ctx, event, meta, null, async () => {
    const removed = await forgetRepositories(ctx.deps.db, installationId, [p.repository.id]);
    await forgetQueued(ctx, removed);
    return { result: `deleted ${removed.length}` };
  });
}

/** Renamed, transferred or unarchived: the stored repository follows (GitHub's id is its identity). */
async function onRepositoryMoved(ctx: HandlerContext, event: WebhookEvent): Promise<WebhookResult> {
  const p = parse(repositoryEventSchema, event);
  const installationId = p.installation?.id;
  if (installationId === undefined) return IGNORED;
  const expected = expectedOf(installationId, p.repository);
  const meta = { installationId, repository: p.repository.full_name };
  return once(ctx, event, meta, expected, async (found) => {
    const repo = await repositoryFor(ctx, expected, found);
    return { result: `registered ${repo.owner}/${repo.name}` };
  });
}
