/**
 * Maintainers' answers as labels: GitHub's recorded `pull_request.closed` and `push` payloads
 * (`@octokit/webhooks-examples`), adapted only where they must name our fix's repository, pull request and branch,
 * delivered signed to the web process over HTTP. Merged, closed unmerged and reverted pull requests are stored
 * beside the predictions of the fix (with data-collection consent only), and show in the accuracy report
 * (Markdown and HTML) and in the dataset export. Real Postgres and Redis; GitHub is strict nock (the web process
 * sends GitHub nothing here: any request would fail the test, and each mocked one is checked against the OpenAPI
 * description).
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { exportDataset } from "../../src/analytics/export.js";
import { buildReport } from "../../src/analytics/report.js";
import { renderReportHtml } from "../../src/analytics/report-html.js";
import { renderReportMarkdown } from "../../src/analytics/report-markdown.js";
import { queryRows } from "../../src/db/client.js";
import { finishCycle, setCycleCheckRun, startCycle } from "../../src/db/queries/cycles.js";
import {
  finishApplyClick,
  listFixPullRequests,
  recordApplyClick,
  recordFixPullRequest,
} from "../../src/db/queries/fix-labels.js";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import type { CandidateResult } from "../../src/engine/types.js";
import { sampleResult } from "../helpers/samples.js";
import { useStrictNock } from "./helpers/github-mock.js";
import {
  atRepository,
  pullRequestClosedPayload,
  pushWithMessagePayload,
  type RepoIdentity,
  recorded,
} from "./helpers/payloads.js";
import { useWebhookServer } from "./helpers/web-server.js";

const DEMO: RepoIdentity = { owner: "acme", name: "demo", githubId: 1001, installationId: 4001 };
const OTHER: RepoIdentity = { owner: "acme", name: "other", githubId: 1002, installationId: 4001 };
const SHA = "a".repeat(40);
const TITLE = "ODAVL: Remove unused imports";

describe("maintainers' answers as labels", () => {
  useStrictNock();
  const web = useWebhookServer("labels");
  const deliver = web.deliver;

  /** A fix as a cycle verified it: one verified prediction of the whole repository, in a given tier. */
  function fix(i: number, tier: CandidateResult["prediction"]["tier"], patchHash: string): CandidateResult {
    const r = sampleResult(1, i * 11 + 1);
    return {
      ...r,
      candidate: {
        ...r.candidate,
        key: `ts/remove-unused-imports@all-${i}`,
        recipe: { ...r.candidate.recipe, id: "ts/remove-unused-imports" },
        scope: "all",
        patchHash,
      },
      prediction: { ...r.prediction, tier, trust: tier === "auto-apply" ? 0.9 : 0.7 },
      outcome: { ...(r.outcome as NonNullable<CandidateResult["outcome"]>), success: true },
    };
  }

  /**
   * A repository (consenting or not) with a cycle whose check run (id `checkRunId`) showed the fix, an Apply press
   * on it, and the pull request the apply job opened: what processApplyJob records.
   */
  async function appliedFix(
    r: RepoIdentity,
    p: {
      consent: boolean;
      checkRunId: number;
      number: number;
      branch: string;
      base?: string;
      tier?: "auto-apply";
      unchangedCommitCycle?: boolean;
    },
  ) {
    const [repo] = await registerRepositories(
      web.db.db,
      { id: r.installationId, accountLogin: r.owner, accountType: "Organization" },
      [{ githubId: r.githubId, owner: r.owner, name: r.name, defaultBranch: "main" }],
    );
    if (!repo) throw new Error("no repository");
    if (p.consent)
      await setConsent(web.db.db, repo.id, "dataCollection", true, { source: "config", actor: "maintainer" });
    const tier = p.tier ?? "review-suggested";
    const patchHash = `patch-${p.number}`;
    /** A completed cycle of SHA that verified the fix and showed it on the check run. */
    const storedCycle = async (runKey: string, trigger: "push" | "schedule"): Promise<{ id: string }> => {
      const cycle = await startCycle(web.db.db, { repositoryId: repo.id, runKey, sha: SHA, trigger });
      await finishCycle(web.db.db, {
        cycleId: cycle.id,
        repositoryId: repo.id,
        sha: SHA,
        status: "completed",
        error: null,
        durationsMs: {},
        facts: null,
        results: [fix(p.number, tier, patchHash)],
        storeData: true,
      });
      await setCycleCheckRun(web.db.db, cycle.id, p.checkRunId);
      return cycle;
    };
    const cycle = await storedCycle(`push-${p.number}`, "push");
    const delivery = `delivery-${p.number}`;
    const click = {
      repositoryId: repo.id,
      deliveryId: delivery,
      checkRunId: p.checkRunId,
      headSha: SHA,
      recipeId: "ts/remove-unused-imports",
    };
    await recordApplyClick(web.db.db, click);
    if (p.unchangedCommitCycle) {
      // A later cycle of the same commit whose summary was the one shown already: it keeps the check run.
      await storedCycle(`again-${p.number}`, "schedule");
    }
    const stored = await recordFixPullRequest(web.db.db, {
      repositoryId: repo.id,
      number: p.number,
      branch: p.branch,
      base: p.base ?? "main",
      title: TITLE,
      recipeId: "ts/remove-unused-imports",
      cycleId: cycle.id,
      patchHash,
      headSha: SHA,
      commitSha: "c0c0000000000000000000000000000000000000",
      trust: tier === "auto-apply" ? 0.9 : 0.7,
      tier,
      origin: "apply",
    });
    await finishApplyClick(web.db.db, click, { result: "opened", pullRequestNumber: p.number });
    return { repo, stored };
  }

  const branch = (n: number) => `odavl/ts/remove-unused-imports-${String(n).padStart(7, "0")}`;

  it("a merged fix, then a push to its base branch that reverts it: merged, then reverted", async () => {
    const { repo, stored } = await appliedFix(DEMO, {
      consent: true,
      checkRunId: 9001,
      number: 12,
      branch: branch(12),
    });
    expect(stored).toBe(true);

    const merged = pullRequestClosedPayload(DEMO, { title: TITLE, number: 12, branch: branch(12), merged: true });
    expect(await deliver("pull_request", merged, "close-12")).toBe("merged #12");
    // A redelivery changes nothing.
    expect(await deliver("pull_request", merged, "close-12")).toBe("already handled");
    const [row] = await listFixPullRequests(web.db.db, repo.id);
    expect(row).toMatchObject({ state: "merged", mergeSha: merged.pull_request.merge_commit_sha });
    expect(row?.closedAt?.toISOString()).toBe(new Date(merged.pull_request.closed_at).toISOString());

    // A push that reverts nothing of ours leaves it merged (and only enqueues the default branch's cycle).
    expect(await deliver("push", pushWithMessagePayload(DEMO, "main", "Initial commit"))).toBe("enqueued");
    expect((await listFixPullRequests(web.db.db, repo.id))[0]?.state).toBe("merged");

    // GitHub's Revert button: `Revert "<title>"` and "This reverts commit <merge sha>.".
    const revert = pushWithMessagePayload(
      DEMO,
      "main",
      `Revert "${TITLE}"\n\nThis reverts commit ${merged.pull_request.merge_commit_sha}.`,
    );
    expect(await deliver("push", revert)).toBe("enqueued; reverted #12");
    const [after] = await listFixPullRequests(web.db.db, repo.id);
    expect(after).toMatchObject({ state: "reverted", revertSha: revert.commits[0].id });
    expect(after?.revertedAt).not.toBeNull();
    // Another delivery of the merge (out of order) does not undo the revert.
    expect(await deliver("pull_request", merged)).toBe("ignored");
    expect((await listFixPullRequests(web.db.db, repo.id))[0]?.state).toBe("reverted");
  });

  it("git revert of the merge commit on a pull request's branch (not the default branch) marks the fix reverted", async () => {
    const { repo } = await appliedFix(DEMO, {
      consent: true,
      checkRunId: 9002,
      number: 13,
      branch: branch(13),
      base: "feature",
    });
    const merged = pullRequestClosedPayload(DEMO, {
      title: TITLE,
      number: 13,
      branch: branch(13),
      base: "feature",
      merged: true,
    });
    expect(await deliver("pull_request", merged)).toBe("merged #13");
    const sha = merged.pull_request.merge_commit_sha as string;
    // A revert on another branch is not this fix's revert.
    const elsewhere = pushWithMessagePayload(
      DEMO,
      "other",
      `Revert "Merge pull request #13"\n\nThis reverts commit ${sha}.`,
    );
    expect(await deliver("push", elsewhere)).toBe("ignored");
    // A push without a revert on a branch other than the default one is not even recorded.
    expect(await deliver("push", pushWithMessagePayload(DEMO, "feature", "Initial commit"))).toBe("ignored");
    const revert = pushWithMessagePayload(
      DEMO,
      "feature",
      `Revert "Merge pull request #13 from acme/${branch(13)}"\n\nThis reverts commit ${sha}, reversing\nchanges made to ${SHA}.`,
    );
    expect(await deliver("push", revert)).toBe("reverted #13");
    expect((await listFixPullRequests(web.db.db, repo.id))[0]?.state).toBe("reverted");
  });

  it("git revert of a squash-merged fix (its title with the pull request's number) marks it reverted", async () => {
    const { repo } = await appliedFix(DEMO, { consent: true, checkRunId: 9005, number: 16, branch: branch(16) });
    expect(
      await deliver(
        "pull_request",
        pullRequestClosedPayload(DEMO, { title: TITLE, number: 16, branch: branch(16), merged: true }),
      ),
    ).toBe("merged #16");
    // Another title's revert is not this fix's.
    expect(await deliver("push", pushWithMessagePayload(DEMO, "main", `Revert "${TITLE} again (#16)"`))).toBe(
      "enqueued",
    );
    expect((await listFixPullRequests(web.db.db, repo.id))[0]?.state).toBe("merged");
    expect(await deliver("push", pushWithMessagePayload(DEMO, "main", `Revert "${TITLE} (#16)"`))).toBe(
      "enqueued; reverted #16",
    );
    expect((await listFixPullRequests(web.db.db, repo.id))[0]?.state).toBe("reverted");
  });

  it("closed unmerged; a pull request that is not a fix's, and one of a repository without consent, store nothing", async () => {
    const { repo } = await appliedFix(DEMO, { consent: true, checkRunId: 9003, number: 14, branch: branch(14) });
    expect(
      await deliver(
        "pull_request",
        pullRequestClosedPayload(DEMO, { title: TITLE, number: 14, branch: branch(14), merged: false }),
      ),
    ).toBe("closed #14");
    expect((await listFixPullRequests(web.db.db, repo.id))[0]).toMatchObject({ state: "closed", mergeSha: null });
    // The recorded example as it is (branch "changes"): not ours, answered without touching the database.
    const deliveries = async () =>
      Number((await queryRows<{ n: number }>(web.db.db, sql`select count(*)::int as n from deliveries`))[0]?.n);
    const before = await deliveries();
    expect(
      await deliver(
        "pull_request",
        atRepository(
          recorded("pull_request", (e) => e.action === "closed"),
          DEMO,
        ),
      ),
    ).toBe("ignored");
    expect(
      await deliver(
        "pull_request",
        recorded("pull_request", (e) => e.action === "closed"),
      ),
    ).toBe("ignored");
    expect(await deliver("push", pushWithMessagePayload(DEMO, "feature", `Revert "${TITLE}"`))).toBe("ignored");
    expect(await deliveries()).toBe(before + 1);

    // No consent: neither the press nor the pull request is stored, and its close changes nothing.
    const other = await appliedFix(OTHER, { consent: false, checkRunId: 9004, number: 15, branch: branch(15) });
    expect(other.stored).toBe(false);
    expect(
      await deliver(
        "pull_request",
        pullRequestClosedPayload(OTHER, { title: TITLE, number: 15, branch: branch(15), merged: true }),
      ),
    ).toBe("ignored");
    const clicks = await queryRows(web.db.db, sql`select repository_id, result, pull_request_number from apply_clicks`);
    expect(clicks).toEqual([{ repository_id: repo.id, result: "opened", pull_request_number: 14 }]);
    expect(await listFixPullRequests(web.db.db, other.repo.id)).toEqual([]);
  });

  it("the report shows how often verified fixes were accepted, by tier, in Markdown and HTML; the export carries the labels", async () => {
    await appliedFix(DEMO, {
      consent: true,
      checkRunId: 9101,
      number: 21,
      branch: branch(21),
      unchangedCommitCycle: true,
    });
    await appliedFix(OTHER, { consent: true, checkRunId: 9102, number: 22, branch: branch(22), tier: "auto-apply" });
    const accepted = pullRequestClosedPayload(DEMO, { title: TITLE, number: 21, branch: branch(21), merged: true });
    expect(await deliver("pull_request", accepted)).toBe("merged #21");
    const refused = pullRequestClosedPayload(OTHER, { title: TITLE, number: 22, branch: branch(22), merged: false });
    expect(await deliver("pull_request", refused)).toBe("closed #22");

    const report = await buildReport(web.db.db, { minSamples: 1 });
    const byTier = Object.fromEntries(report.acceptance.map((a) => [a.tier, a]));
    expect(byTier["review-suggested"]).toMatchObject({
      verifiedFixes: 1,
      applyClicks: 1,
      pullRequests: 1,
      merged: 1,
      closedUnmerged: 0,
      acceptance: 1,
    });
    expect(byTier["auto-apply"]).toMatchObject({ verifiedFixes: 1, applyClicks: 1, closedUnmerged: 1, acceptance: 0 });
    expect(byTier.all).toMatchObject({ verifiedFixes: 2, applyClicks: 2, pullRequests: 2, acceptance: 0.5 });
    // Wilson 95% interval of 1 in 2.
    expect(byTier.all?.acceptanceInterval?.lower).toBeCloseTo(0.0945, 3);
    expect(byTier.all?.acceptanceInterval?.upper).toBeCloseTo(0.9055, 3);

    const md = renderReportMarkdown(report);
    expect(md).toContain("## Maintainers' answers");
    expect(md).toContain("| review-suggested | 1 | 1 | 1 | 0 | 1 | 0 | 0 | 100.0% (20.7-100.0%) |");
    expect(md).toContain("| all | 2 | 2 | 2 | 0 | 1 | 1 | 0 | 50.0% (9.5-90.5%) |");
    const html = renderReportHtml(report);
    expect(html).toContain(`<section id="acceptance"><h2>Maintainers' answers</h2>`);
    expect(html).toContain(
      '<tr><td>all</td><td class="n">2</td><td class="n">2</td><td class="n">2</td><td class="n">0</td><td class="n">1</td><td class="n">1</td><td class="n">0</td><td class="n">50.0% (9.5-90.5%)</td></tr>',
    );

    let text = "";
    const result = await exportDataset(web.db.db, { format: "jsonl" }, async (chunk) => {
      text += chunk;
    });
    // The unchanged commit's cycle stored the same patch again: its prediction carries the same labels.
    expect(result.rows).toBe(3);
    const rows = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { repository: string; applied: boolean; pullRequest: string | null });
    expect(rows.map((r) => [r.repository, r.applied, r.pullRequest])).toEqual([
      ["acme/demo", true, "merged"],
      ["acme/demo", true, "merged"],
      ["acme/other", true, "closed"],
    ]);
  });
});
