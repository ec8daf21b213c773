/**
 * Hostile or broken `.github/odavl.yml` on the default branch (the valid-file and invalid-budget cases are in
 * test/github/repo-config-sync.test.ts): invalid types, unknown keys, a YAML alias bomb, a huge file. Each is
 * explained in a failed "ODAVL configuration" check run that names the problem, quickly, and the last valid
 * configuration (with its consent) stays in force.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { explainInvalidConfig } from "../../src/github/repo-config-sync.js";
import type { Schedules } from "../../src/queue/schedules.js";
import { CONFIG_REF, useConfigRepository } from "../github/helpers/config-repo.js";
import { GitHubMock, useStrictNock } from "../github/helpers/github-mock.js";

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
  const fx = useConfigRepository();

  beforeEach(async () => {
    // The last valid configuration: automatic pull requests on.
    new GitHubMock("acme", "demo").configFile("autoApply: true\n", "blob-valid").lastCommit("alice");
    await fx.sync(NO_SCHEDULES);
  });

  for (const c of CASES) {
    it(`${c.name}: a failed check run says why, and the last valid configuration stays`, async () => {
      const gh = new GitHubMock("acme", "demo")
        .configFile(c.text, "blob-bad")
        .findCheckRuns(SHA, "ODAVL configuration", [])
        .createCheckRun(31);
      const started = performance.now();
      const synced = await fx.sync(NO_SCHEDULES);
      expect(synced.invalid, "the file is refused").not.toBeNull();
      await explainInvalidConfig(fx.api, CONFIG_REF, {
        sha: SHA,
        error: synced.invalid as NonNullable<typeof synced.invalid>,
        defaultBranch: "main",
        now: new Date(0),
      });
      const ms = performance.now() - started;
      // In force: the last valid file's configuration and consent.
      expect(synced.config.autoApply).toBe(true);
      expect(await fx.repo()).toMatchObject({ autoApply: true, configSha: "blob-valid" });
      expect(await queryRows(fx.db.db, sql`select field, value from consent_events order by id`)).toEqual([
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
