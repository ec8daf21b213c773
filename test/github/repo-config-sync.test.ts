/** `.github/odavl.yml` on the default branch: consent events, the last valid configuration, and what is invalid. */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { RepoConfigError } from "../../src/engine/repo-config.js";
import { applyActionId, recipeForAction } from "../../src/github/actions.js";
import { fixBranchName } from "../../src/github/pull-request.js";
import { validateConfig } from "../../src/github/repo-config-sync.js";
import { type Schedules, scheduleProblem } from "../../src/queue/schedules.js";
import { RECIPES } from "../../src/recipes/index.js";
import { useConfigRepository } from "./helpers/config-repo.js";
import { GitHubMock, useStrictNock } from "./helpers/github-mock.js";

describe("repository configuration", () => {
  useStrictNock();
  const fx = useConfigRepository();
  const upserts: string[] = [];
  const schedules: Schedules = {
    upsert: async (repo, schedule) => {
      upserts.push(`${repo.id}:${schedule}`);
    },
    remove: async () => {},
  };
  beforeEach(() => {
    upserts.length = 0;
  });
  const repo = () => fx.repo();
  const events = () => queryRows(fx.db.db, sql`select field, value, source, actor from consent_events order by id`);

  it("records each consent change with its source and actor, and reads nothing more while the file is unchanged", async () => {
    new GitHubMock("acme", "demo").configFile("dataCollection: true\nschedule: weekly\n", "blob1").lastCommit("alice");
    const synced = await fx.sync(schedules);
    expect(synced).toMatchObject({ changed: true, consentChanged: ["dataCollection"], invalid: null });
    expect(await events()).toEqual([{ field: "dataCollection", value: true, source: "config", actor: "alice" }]);
    expect(upserts).toEqual(["1:weekly"]);

    new GitHubMock("acme", "demo").configFile("dataCollection: true\nschedule: weekly\n", "blob1");
    expect(await fx.sync(schedules)).toMatchObject({ changed: false });

    // The file is deleted: the defaults again, consent off.
    new GitHubMock("acme", "demo").configFile(null).lastCommit("bob");
    await fx.sync(schedules);
    expect(await events()).toEqual([
      { field: "dataCollection", value: true, source: "config", actor: "alice" },
      { field: "dataCollection", value: false, source: "config", actor: "bob" },
    ]);
    expect(await repo()).toMatchObject({ dataCollection: false, autoApply: false, configSha: null });
  });

  it("keeps the last valid configuration when the file becomes invalid", async () => {
    new GitHubMock("acme", "demo").configFile("autoApply: true\n", "blob1").lastCommit("alice");
    await fx.sync(schedules);
    new GitHubMock("acme", "demo").configFile("autoApply: false\nbudget: { maxFiles: 0 }\n", "blob2");
    const synced = await fx.sync(schedules);
    expect(synced.invalid).toBeInstanceOf(RepoConfigError);
    expect(synced.config.autoApply).toBe(true);
    expect(await repo()).toMatchObject({ autoApply: true, configSha: "blob1" });
  });

  it("reports unknown recipes and bad schedules with their lines", () => {
    const text = "recipes:\n  disable:\n    - eslint/no-such-rule\nschedule: '61 * * * *'\n";
    const err = (() => {
      try {
        validateConfig(1, text, scheduleProblem);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RepoConfigError);
    expect((err as RepoConfigError).issues.map((i) => [i.path, i.line])).toEqual([
      ["recipes.disable.0", 3],
      ["schedule", 4],
    ]);
  });
});

describe("Apply identifiers and fix branches", () => {
  it("every recipe has its own identifier of at most 20 characters", () => {
    const ids = RECIPES.map((r) => applyActionId(r.id));
    expect(new Set(ids).size).toBe(RECIPES.length);
    for (const r of RECIPES) {
      expect(applyActionId(r.id).length).toBeLessThanOrEqual(20);
      expect(recipeForAction(applyActionId(r.id))?.id).toBe(r.id);
    }
    expect(recipeForAction("apply-ffffffffffffff")).toBeUndefined();
  });

  it("names fix branches odavl/<recipe>-<sha7>", () => {
    expect(fixBranchName("ts/remove-unused-imports", "abcdef0123456789")).toBe(
      "odavl/ts/remove-unused-imports-abcdef0",
    );
  });
});
