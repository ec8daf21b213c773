/**
 * One installed repository, acme/demo (row id 1), registered afresh before each test, with the GitHub API over an
 * installation token (GitHub is strict nock), for tests of `.github/odavl.yml` and its sync.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { registerRepositories } from "../../../src/db/queries/installations.js";
import { findRepositoryById, type RepositoryRow } from "../../../src/db/queries/repositories.js";
import type { GitHubApi } from "../../../src/github/api.js";
import { type ConfigSync, type ConfigSyncDeps, syncRepoConfig } from "../../../src/github/repo-config-sync.js";
import { scheduleProblem } from "../../../src/queue/schedules.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { tokenGitHubApi } from "./probot.js";

export const CONFIG_REF = { owner: "acme", repo: "demo" };

export interface ConfigRepository {
  /** Set once the block's beforeAll has run. */
  db: TestDb;
  api: GitHubApi;
  /** The repository's row as stored now. */
  repo(): Promise<RepositoryRow>;
  /** syncRepoConfig on the repository, as a job would run it, with the queue's schedule rules. */
  sync(schedules: ConfigSyncDeps["schedules"]): Promise<ConfigSync>;
}

export function useConfigRepository(): ConfigRepository {
  const fx = {} as ConfigRepository;
  beforeAll(async () => {
    fx.db = await createTestDb("postgres");
    fx.api = await tokenGitHubApi();
  });
  afterAll(() => fx.db?.cleanup());
  beforeEach(async () => {
    await fx.db.db.execute(sql`truncate installations, repositories restart identity cascade`);
    await registerRepositories(fx.db.db, { id: 4001, accountLogin: "acme", accountType: "Organization" }, [
      { githubId: 1001, owner: "acme", name: "demo" },
    ]);
  });
  fx.repo = async () => {
    const r = await findRepositoryById(fx.db.db, 1);
    if (!r) throw new Error("acme/demo is not registered");
    return r;
  };
  fx.sync = async (schedules) =>
    syncRepoConfig({ db: fx.db.db, api: fx.api, schedules, scheduleProblem }, await fx.repo(), CONFIG_REF);
  return fx;
}
