/**
 * The Probot app of the web process. Every handler answers at once: it records the delivery, registers what the
 * event says about the installation, and enqueues a job with a deterministic id; the worker does the rest.
 * GitHub neither redelivers failed webhooks nor orders them, so each handler is idempotent and none depends on
 * another having run (a push from a repository whose installation event was lost registers the repository).
 */
import type { ApplicationFunction, Context } from "probot";
import type { Db } from "../db/client.js";
import type { RepositoryRow } from "../db/queries/repositories.js";
import type { JobProducer } from "../queue/producer.js";
import type { Schedules } from "../queue/schedules.js";
import { recipeForAction } from "./actions.js";
import {
  type DeliveryInput,
  finishDelivery,
  forgetInstallation,
  forgetRepositories,
  type InstallationInput,
  recordDelivery,
  registerRepositories,
  storedConfig,
} from "./store.js";

export interface AppDeps {
  db: Db;
  jobs: JobProducer;
  schedules: Schedules;
}

type Outcome = { result: string; jobId?: string };

export function createApp(deps: AppDeps): ApplicationFunction {
  return (app) => {
    app.on("push", (context) => onPush(context, deps));
    app.on(["pull_request.opened", "pull_request.reopened", "pull_request.synchronize"], (context) =>
      onPullRequest(context, deps),
    );
    app.on("check_suite.rerequested", (context) => onCheckSuiteRerequested(context, deps));
    app.on("check_run.rerequested", (context) => onCheckRunRerequested(context, deps));
    app.on("check_run.requested_action", (context) => onRequestedAction(context, deps));
    app.on("installation.created", (context) => onInstallationCreated(context, deps));
    app.on("installation.deleted", (context) => onInstallationDeleted(context, deps));
    app.on("installation_repositories.added", (context) => onRepositoriesAdded(context, deps));
    app.on("installation_repositories.removed", (context) => onRepositoriesRemoved(context, deps));
  };
}

/**
 * Runs a handler once per delivery: a delivery whose handling finished is not handled again; one whose handling
 * did not finish (or is still running) is, which is safe because every handler is idempotent.
 */
async function once(
  deps: AppDeps,
  context: Context,
  meta: Pick<DeliveryInput, "installationId" | "repository">,
  handle: () => Promise<Outcome>,
): Promise<void> {
  const action = (context.payload as { action?: unknown }).action;
  const seen = await recordDelivery(deps.db, {
    id: context.id,
    event: context.name,
    action: typeof action === "string" ? action : null,
    ...meta,
  });
  if (seen.handled) {
    context.log.info({ delivery: context.id }, "delivery already handled");
    return;
  }
  const outcome = await handle();
  await finishDelivery(deps.db, context.id, outcome.result, outcome.jobId ?? null);
  context.log.info({ delivery: context.id, ...outcome }, "delivery handled");
}

interface RepositoryPayload {
  id: number;
  name: string;
  full_name: string;
  default_branch?: string;
  owner: { login: string; type?: string } | null;
}

function ownerOf(r: { full_name: string; owner?: { login: string } | null }): string {
  return r.owner?.login ?? r.full_name.split("/")[0] ?? r.full_name;
}

/** Registers the event's repository (and installation), and makes sure it has its schedule. */
async function register(deps: AppDeps, installationId: number, r: RepositoryPayload): Promise<RepositoryRow> {
  const owner = ownerOf(r);
  const installation: InstallationInput = {
    id: installationId,
    accountLogin: owner,
    accountType: r.owner?.type ?? "Organization",
  };
  const [row] = await registerRepositories(deps.db, installation, [
    { githubId: r.id, owner, name: r.name, ...(r.default_branch ? { defaultBranch: r.default_branch } : {}) },
  ]);
  if (!row) throw new Error(`no repository row for ${r.full_name}`);
  await deps.schedules.upsert(row, storedConfig(row).schedule);
  return row;
}

async function onPush(context: Context<"push">, deps: AppDeps): Promise<void> {
  const p = context.payload;
  // Only the default branch: other branches are checked through their pull requests.
  if (p.deleted || /^0+$/.test(p.after) || p.ref !== `refs/heads/${p.repository.default_branch}`) return;
  const installationId = p.installation?.id;
  if (installationId === undefined) return;
  await once(deps, context, { installationId, repository: p.repository.full_name }, async () => {
    const repo = await register(deps, installationId, p.repository);
    const jobId = await deps.jobs.enqueueCycle(
      {
        repositoryId: repo.id,
        repository: p.repository.full_name,
        sha: p.after,
        trigger: "push",
        branch: p.repository.default_branch,
        deliveryId: context.id,
      },
      { trigger: "push" },
    );
    return { result: "enqueued", jobId };
  });
}

async function onPullRequest(
  context: Context<"pull_request.opened" | "pull_request.reopened" | "pull_request.synchronize">,
  deps: AppDeps,
): Promise<void> {
  const p = context.payload;
  const installationId = p.installation?.id;
  if (installationId === undefined) return;
  await once(deps, context, { installationId, repository: p.repository.full_name }, async () => {
    const repo = await register(deps, installationId, p.repository);
    const jobId = await deps.jobs.enqueueCycle(
      {
        repositoryId: repo.id,
        repository: p.repository.full_name,
        sha: p.pull_request.head.sha,
        trigger: "pull_request",
        pullRequest: p.pull_request.number,
        branch: p.pull_request.head.ref,
        deliveryId: context.id,
      },
      { trigger: "pull_request" },
    );
    return { result: "enqueued", jobId };
  });
}

async function onCheckSuiteRerequested(context: Context<"check_suite.rerequested">, deps: AppDeps): Promise<void> {
  const suite = context.payload.check_suite;
  await enqueueRerequest(context, deps, {
    sha: suite.head_sha,
    pullRequest: suite.pull_requests[0]?.number ?? null,
    branch: suite.head_branch,
  });
}

async function onCheckRunRerequested(context: Context<"check_run.rerequested">, deps: AppDeps): Promise<void> {
  const run = context.payload.check_run;
  await enqueueRerequest(context, deps, {
    sha: run.head_sha,
    pullRequest: run.pull_requests[0]?.number ?? null,
    branch: run.check_suite?.head_branch ?? null,
  });
}

/** A maintainer asked for the check again (suite or run): a manual cycle at that head. */
async function enqueueRerequest(
  context: Context<"check_suite.rerequested"> | Context<"check_run.rerequested">,
  deps: AppDeps,
  head: { sha: string; pullRequest: number | null; branch: string | null },
): Promise<void> {
  const p = context.payload;
  const installationId = p.installation?.id;
  if (installationId === undefined) return;
  await once(deps, context, { installationId, repository: p.repository.full_name }, async () => {
    const repo = await register(deps, installationId, p.repository);
    const jobId = await deps.jobs.enqueueCycle(
      {
        repositoryId: repo.id,
        repository: p.repository.full_name,
        sha: head.sha,
        trigger: "manual",
        pullRequest: head.pullRequest,
        branch: head.branch,
        deliveryId: context.id,
      },
      { trigger: "manual", deliveryId: context.id },
    );
    return { result: "enqueued", jobId };
  });
}

async function onRequestedAction(context: Context<"check_run.requested_action">, deps: AppDeps): Promise<void> {
  const p = context.payload;
  const installationId = p.installation?.id;
  const identifier = p.requested_action?.identifier;
  // Only our buttons: an identifier we did not make names nothing we can apply.
  if (installationId === undefined || !identifier || !recipeForAction(identifier)) return;
  await once(deps, context, { installationId, repository: p.repository.full_name }, async () => {
    const repo = await register(deps, installationId, p.repository);
    const jobId = await deps.jobs.enqueueApply({
      repositoryId: repo.id,
      repository: p.repository.full_name,
      checkRunId: p.check_run.id,
      headSha: p.check_run.head_sha,
      headBranch: p.check_run.check_suite?.head_branch ?? null,
      action: identifier,
      requestedBy: p.sender.login,
      deliveryId: context.id,
    });
    return { result: "enqueued", jobId };
  });
}

interface InstallationPayload {
  id: number;
  account: { login?: string; slug?: string; type?: string } | null;
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
  deps: AppDeps,
  installation: InstallationPayload,
  listed: readonly { id: number; name: string; full_name: string }[],
): Promise<RepositoryRow[]> {
  const rows = await registerRepositories(
    deps.db,
    installationOf(installation),
    listed.map((r) => ({ githubId: r.id, owner: ownerOf(r), name: r.name })),
  );
  for (const row of rows) await deps.schedules.upsert(row, storedConfig(row).schedule);
  return rows;
}

async function onInstallationCreated(context: Context<"installation.created">, deps: AppDeps): Promise<void> {
  const p = context.payload;
  await once(deps, context, { installationId: p.installation.id, repository: null }, async () => {
    const rows = await registerListed(deps, p.installation, p.repositories ?? []);
    return { result: `registered ${rows.length}` };
  });
}

async function onRepositoriesAdded(context: Context<"installation_repositories.added">, deps: AppDeps): Promise<void> {
  const p = context.payload;
  await once(deps, context, { installationId: p.installation.id, repository: null }, async () => {
    const rows = await registerListed(deps, p.installation, p.repositories_added);
    return { result: `registered ${rows.length}` };
  });
}

/**
 * Uninstalled: the installation's data goes in one transaction, then its queued jobs and schedules. Were the
 * queue unreachable, the webhook fails (and can be redelivered); the data is gone already, and a job that still
 * runs finds its repository gone and stops.
 */
async function onInstallationDeleted(context: Context<"installation.deleted">, deps: AppDeps): Promise<void> {
  const p = context.payload;
  await once(deps, context, { installationId: p.installation.id, repository: null }, async () => {
    const removed = await forgetInstallation(deps.db, p.installation.id, context.id);
    await forgetQueued(deps, removed);
    return { result: `deleted ${removed.length}` };
  });
}

async function onRepositoriesRemoved(
  context: Context<"installation_repositories.removed">,
  deps: AppDeps,
): Promise<void> {
  const p = context.payload;
  await once(deps, context, { installationId: p.installation.id, repository: null }, async () => {
    const removed = await forgetRepositories(
      deps.db,
      p.installation.id,
      p.repositories_removed.map((r) => r.id),
    );
    await forgetQueued(deps, removed);
    return { result: `deleted ${removed.length}` };
  });
}

async function forgetQueued(deps: AppDeps, repositoryIds: readonly number[]): Promise<void> {
  if (repositoryIds.length === 0) return;
  await deps.schedules.remove(repositoryIds);
  await deps.jobs.removeRepositoryJobs(repositoryIds);
}
