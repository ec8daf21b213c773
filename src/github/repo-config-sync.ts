/**
 * Consent and configuration from `.github/odavl.yml` on the default branch. Read from the branch's current head
 * through the API at the start of every installed cycle, so the order in which pushes are processed cannot
 * bring an older file back. A valid file is stored with its consent (each change a consent event); an invalid
 * one leaves the last valid configuration in force and is explained in a check run with annotations on the file.
 */
import type { Db } from "../db/client.js";
import { type RepositoryRow, saveRepoConfig, storedConfig } from "../db/queries/repositories.js";
import {
  type ConfigIssue,
  DEFAULT_REPO_CONFIG,
  MAX_CONFIG_BYTES,
  parseRepoConfig,
  type RepoConfig,
  RepoConfigError,
} from "../engine/repo-config.js";
import { unknownSelectors } from "../recipes/index.js";
import { escapeMarkdown } from "../summary/render.js";
import type { Annotation, GitHubApi, RepoRef } from "./api.js";
import { ANNOTATIONS_PER_REQUEST, putCompletedCheckRun } from "./check-run.js";
import type { RepositorySchedules, ScheduleProblem } from "./ports.js";

const CONFIG_PATH = ".github/odavl.yml";
export const CONFIG_CHECK_RUN_NAME = "ODAVL configuration";

export interface ConfigSync {
  /** The configuration in force for this cycle. */
  config: RepoConfig;
  changed: boolean;
  consentChanged: ("dataCollection" | "autoApply")[];
  invalid: RepoConfigError | null;
}

export interface ConfigSyncDeps {
  db: Db;
  api: GitHubApi;
  /** Where a changed schedule goes (the queue's job schedulers); null: nowhere. */
  schedules: Pick<RepositorySchedules, "upsert"> | null;
  /** The schedule rules (the queue's): a schedule they refuse makes the file invalid. */
  scheduleProblem: ScheduleProblem;
}

export async function syncRepoConfig(deps: ConfigSyncDeps, repo: RepositoryRow, ref: RepoRef): Promise<ConfigSync> {
  const file = await deps.api.getFile(ref, CONFIG_PATH, repo.defaultBranch);
  const blobSha = file?.sha ?? null;
  if (blobSha === repo.configSha) {
    return { config: storedConfig(repo), changed: false, consentChanged: [], invalid: null };
  }
  let config: RepoConfig;
  try {
    if (file && file.size > MAX_CONFIG_BYTES) {
      throw new RepoConfigError([{ path: "", message: `file is larger than ${MAX_CONFIG_BYTES} bytes` }]);
    }
    config = file ? validateConfig(repo.id, file.text, deps.scheduleProblem) : DEFAULT_REPO_CONFIG;
  } catch (err) {
    if (!(err instanceof RepoConfigError)) throw err;
    return { config: storedConfig(repo), changed: false, consentChanged: [], invalid: err };
  }
  // The consent's actor is whoever last changed the file on the default branch (or deleted it).
  const last = await deps.api.lastCommitTouching(ref, CONFIG_PATH, repo.defaultBranch);
  const consentChanged = await saveRepoConfig(deps.db, repo.id, config, blobSha, last?.author ?? "unknown");
  await deps.schedules?.upsert(repo, config.schedule);
  return { config, changed: true, consentChanged, invalid: null };
}

/** parseRepoConfig plus what only this side knows: the recipe catalog and the schedule rules. */
export function validateConfig(repositoryId: number, text: string, scheduleProblem: ScheduleProblem): RepoConfig {
  const config = parseRepoConfig(text);
  const issues: ConfigIssue[] = [];
  for (const list of ["enable", "disable"] as const) {
    const selectors = config.recipes[list] ?? [];
    for (const unknown of unknownSelectors(selectors)) {
      issues.push({
        path: `recipes.${list}.${selectors.indexOf(unknown)}`,
        message: `unknown recipe "${unknown}"`,
        ...lineOf(text, unknown),
      });
    }
  }
  const problem = scheduleProblem(repositoryId, config.schedule);
  if (problem !== null) issues.push({ path: "schedule", message: problem, ...lineOf(text, "schedule") });
  if (issues.length > 0) throw new RepoConfigError(issues);
  return config;
}

function lineOf(text: string, needle: string): { line?: number } {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  return index >= 0 ? { line: index + 1 } : {};
}

/**
 * The check run that explains an invalid file, on the commit being checked. One per commit: a retried or
 * repeated cycle updates the one that exists (without its annotations again: GitHub would append them).
 */
export async function explainInvalidConfig(
  api: GitHubApi,
  ref: RepoRef,
  p: { sha: string; error: RepoConfigError; defaultBranch: string; now: Date },
): Promise<number> {
  const issues = p.error.issues;
  const output = {
    title: `${CONFIG_PATH} is invalid: the last valid configuration stays in force`,
    summary: [
      `ODAVL could not use \`${CONFIG_PATH}\` on \`${escapeMarkdown(p.defaultBranch)}\`:`,
      "",
      ...issues.map(
        (i) =>
          `- \`${escapeMarkdown(i.path || "(file)")}\`${i.line ? ` (line ${i.line})` : ""}: ${escapeMarkdown(i.message)}`,
      ),
      "",
      "Until the file is fixed, ODAVL keeps using the last valid configuration (or, if there never was one, the " +
        "defaults: no data collection and no automatic pull requests). Consent changes in the invalid file are not " +
        "applied.",
    ].join("\n"),
  };
  const annotations: Annotation[] = issues.slice(0, ANNOTATIONS_PER_REQUEST).map((i) => ({
    path: CONFIG_PATH,
    start_line: i.line ?? 1,
    end_line: i.line ?? 1,
    annotation_level: "failure",
    title: "Invalid ODAVL configuration",
    message: `${i.path || "(file)"}: ${i.message}`,
  }));
  return putCompletedCheckRun(api, ref, {
    name: CONFIG_CHECK_RUN_NAME,
    headSha: p.sha,
    externalId: `config-${p.sha}`,
    conclusion: "failure",
    now: p.now,
    output,
    annotations,
  });
}
