/**
 * Hostile or broken `.github/odavl.yml` on the default branch (the valid-file and invalid-budget cases are in
 * test/github/repo-config-sync.test.ts): invalid types, unknown keys, a YAML alias bomb, a huge file. Each is
 * explained in a failed "ODAVL configuration" check run that names the problem, quickly, and the last valid
 * configuration (with its consent) stays in force.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { findRepositoryById } from "../../src/db/queries/repositories.js";
import type { GitHubApi } from "../../src/github/api.js";
import { explainInvalidConfig, syncRepoConfig } from "../../src/github/repo-config-sync.js";
import { type Schedules, scheduleProblem } from "../../src/queue/schedules.js";
import { GitHubMock, useStrictNock } from "../github/helpers/github-mock.js";
import { tokenGitHubApi } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

const REF = { owner: "acme", repo: "demo" };
const SHA = "b".repeat(40);
const NO_SCHEDULES: Schedules = { upsert: async () => {}, remove: async () => {} };

/** Nine levels of ten aliases each: a billion strings if expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from({ length: 8 }, (_, i) => {
    const prev = String.fromCharCode(97 + i);
    const name = String.fromCharCode(98 + i);
    return `${name}: &${name} [${Array(10).fill(`*${prev}`).join(",")}]`;
  }),
  "protectedPaths: *i",
].join("\n");

const CASES: { name: string; text: string; expect: RegExp }[] = [
  { name: "invalid types", text: 'autoApply: "yes"\nbudget: { maxFiles: "ten" }\n', expect: /autoApply|budget/ },
  {
    name: "unknown keys",
    text: "autoAplly: true\nrecipes: { disabel: [] }\n",
    expect: /autoAplly|disabel|unrecognized/i,
  },
  { name: "a YAML alias bomb", text: ALIAS_BOMB, expect: /alias/i },
  { name: "a huge file", text: `# ${"x".repeat(200_000)}\nautoApply: false\n`, expect: /larger than/ },
];

describe("hostile repository configuration", () => {
  useStrictNock();
  let db: TestDb;
  let api: GitHubApi;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    api = await tokenGitHubApi();
  });

  afterAll(async () => {
    await db.cleanup();
  });

  beforeEach(async () => {
    await db.db.execute(sql`truncate installations, repositories restart identity cascade`);
    await registerRepositories(db.db, { id: 4001, accountLogin: "acme", accountType: "Organization" }, [
      { githubId: 1001, owner: "acme", name: "demo" },
    ]);
    // The last valid configuration: automatic pull requests on.
    new GitHubMock("acme", "demo").configFile("autoApply: true\n", "blob-valid").lastCommit("alice");
    await syncRepoConfig({ db: db.db, api, schedules: NO_SCHEDULES, scheduleProblem }, await repo(), REF);
  });

  const repo = async () => {
    const r = await findRepositoryById(db.db, 1);
    if (!r) throw new Error("no repository");
    return r;
  };

  for (const c of CASES) {
    it(`${c.name}: a failed check run says why, and the last valid configuration stays`, async () => {
      const gh = new GitHubMock("acme", "demo")
        .configFile(c.text, "blob-bad")
        .findCheckRuns(SHA, "ODAVL configuration", [])
        .createCheckRun(31);
      const started = performance.now();
      const synced = await syncRepoConfig(
        { db: db.db, api, schedules: NO_SCHEDULES, scheduleProblem },
        await repo(),
        REF,
      );
      expect(synced.invalid, "the file is refused").not.toBeNull();
      await explainInvalidConfig(api, REF, {
        sha: SHA,
        error: synced.invalid as NonNullable<typeof synced.invalid>,
        defaultBranch: "main",
        now: new Date(0),
      });
      const ms = performance.now() - started;
      // In force: the last valid file's configuration and consent.
      expect(synced.config.autoApply).toBe(true);
      expect(await repo()).toMatchObject({ autoApply: true, configSha: "blob-valid" });
      expect(await queryRows(db.db, sql`select field, value from consent_events order by id`)).toEqual([
        { field: "autoApply", value: true },
      ]);
      // The check run names the problem.
      const [created] = gh.find("POST", "/check-runs");
      expect(created?.body).toMatchObject({ name: "ODAVL configuration", conclusion: "failure", head_sha: SHA });
      expect(created?.body.output.title).toMatch(/is invalid: the last valid configuration stays in force/);
      expect(created?.body.output.summary).toMatch(c.expect);
      expect(created?.body.output.summary.length).toBeLessThan(65_535);
      expect(ms).toBeLessThan(5_000);
    });
  }
});
