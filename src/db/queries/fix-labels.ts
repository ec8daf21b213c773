/**
 * Maintainers' answers as labels: every Apply press, the pull requests opened for fixes, and what became of them
 * (merged, closed unmerged, reverted later). Like outcomes, nothing is written unless the repository consents to
 * data collection at the time of the write: each statement checks the consent itself, so a repository that
 * revoked it gets nothing new stored, whoever writes.
 */
import { asc, eq, sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../client.js";
import { fixPullRequests } from "../schema.js";

export type FixPullRequestRow = typeof fixPullRequests.$inferSelect;
export type FixState = FixPullRequestRow["state"];

export interface ApplyClickInput {
  repositoryId: number;
  deliveryId: string;
  checkRunId: number;
  headSha: string;
  recipeId: string;
}

/** Records an Apply press once (a retried job records nothing more). Returns whether it is stored. */
export async function recordApplyClick(db: DbOrTx, c: ApplyClickInput): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`insert into apply_clicks (repository_id, delivery_id, check_run_id, head_sha, recipe_id)
      select r.id, ${c.deliveryId}, ${c.checkRunId}, ${c.headSha}, ${c.recipeId}
      from repositories r where r.id = ${c.repositoryId} and r.data_collection
      on conflict (delivery_id) do nothing
      returning id`,
  );
  return rows.length > 0;
}

/**
 * What the apply job answered to a press, and the pull request it opened or found open. Records the press too
 * when it was not (the job read the repository's `.github/odavl.yml`, which may have just given the consent).
 */
export async function finishApplyClick(
  db: DbOrTx,
  c: ApplyClickInput,
  answer: { result: string; pullRequestNumber: number | null },
): Promise<void> {
  await db.execute(
    sql`insert into apply_clicks (repository_id, delivery_id, check_run_id, head_sha, recipe_id, result,
        pull_request_number)
      select r.id, ${c.deliveryId}, ${c.checkRunId}, ${c.headSha}, ${c.recipeId}, ${answer.result},
        ${answer.pullRequestNumber}
      from repositories r where r.id = ${c.repositoryId} and r.data_collection
      on conflict (delivery_id) do update set result = excluded.result,
        pull_request_number = excluded.pull_request_number`,
  );
}

export interface FixPullRequestInput {
  repositoryId: number;
  number: number;
  branch: string;
  base: string;
  title: string;
  recipeId: string;
  cycleId: string | null;
  patchHash: string;
  headSha: string;
  commitSha: string;
  trust: number;
  tier: FixPullRequestRow["tier"];
  origin: FixPullRequestRow["origin"];
}

/**
 * Records a pull request opened for a fix (again for a retried job: the row keeps its state and is pointed at
 * what this attempt verified). Returns whether it is stored.
 */
export async function recordFixPullRequest(db: DbOrTx, f: FixPullRequestInput): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`insert into fix_pull_requests (repository_id, number, branch, base, title, recipe_id, cycle_id, patch_hash,
        head_sha, commit_sha, trust, tier, origin)
      select r.id, ${f.number}, ${f.branch}, ${f.base}, ${f.title}, ${f.recipeId}, ${f.cycleId}, ${f.patchHash},
        ${f.headSha}, ${f.commitSha}, ${f.trust}, ${f.tier}, ${f.origin}
      from repositories r where r.id = ${f.repositoryId} and r.data_collection
      on conflict (repository_id, number) do update set branch = excluded.branch, base = excluded.base,
        title = excluded.title, recipe_id = excluded.recipe_id, cycle_id = excluded.cycle_id,
        patch_hash = excluded.patch_hash, head_sha = excluded.head_sha, commit_sha = excluded.commit_sha,
        trust = excluded.trust, tier = excluded.tier, updated_at = now()
      returning id`,
  );
  return rows.length > 0;
}

export interface ClosedPullRequest {
  /** GitHub's repository id (the web process knows the event's repository by it). */
  githubRepositoryId: number;
  number: number;
  /** The pull request's head branch: only the row of that branch is ours. */
  branch: string;
  merged: boolean;
  mergeSha: string | null;
  closedAt: Date;
}

/**
 * pull_request.closed of a fix's pull request: merged or closed unmerged. One statement. A pull request closed
 * unmerged, reopened and closed or merged again takes the later answer; a merged (or reverted) one keeps its
 * state. Returns the new state, or null when nothing changed (not a stored fix, no consent, an older close).
 */
export async function closeFixPullRequest(db: DbOrTx, c: ClosedPullRequest): Promise<FixState | null> {
  const state: FixState = c.merged ? "merged" : "closed";
  const rows = await queryRows<{ state: FixState }>(
    db,
    sql`update fix_pull_requests f set state = ${state}, merge_sha = ${c.mergeSha},
        closed_at = ${c.closedAt.toISOString()}::timestamptz, updated_at = now()
      from repositories r
      where r.id = f.repository_id and r.github_id = ${c.githubRepositoryId} and r.data_collection
        and f.number = ${c.number} and f.branch = ${c.branch}
        -- Open, or closed before and reopened since (a later close or merge wins; a merge is final).
        and (f.state = 'open' or (f.state = 'closed' and f.closed_at <= ${c.closedAt.toISOString()}::timestamptz))
      returning f.state`,
  );
  return rows[0]?.state ?? null;
}

export interface PushedCommit {
  sha: string;
  message: string;
}

/**
 * A commit message that may revert something: what git revert, GitHub's "Revert" button and a squash-merged
 * revert pull request write. Cheap, so that the web process looks at the database only for such pushes.
 */
export function looksLikeRevert(message: string): boolean {
  return message.startsWith('Revert "') || message.includes("This reverts commit ");
}

/**
 * A push to a base branch: merged fixes of that branch that one of the pushed commits reverts become "reverted"
 * (the rule: docs/operations.md, "Maintainers' answers"). A commit reverts a fix when its message starts with
 * `Revert "<the pull request's title>"` (or `Revert "<title> (#<number>)"`, the revert of a squash merge), or says
 * `This reverts commit <sha>` of the fix's merge commit or of its own commit. Returns the numbers of the pull
 * requests marked.
 */
export async function markFixesReverted(
  db: DbOrTx,
  p: { githubRepositoryId: number; branch: string; commits: readonly PushedCommit[]; at: Date },
): Promise<number[]> {
  const commits = p.commits.filter((c) => looksLikeRevert(c.message));
  if (commits.length === 0) return [];
  const rows = await queryRows<{ number: number }>(
    db,
    sql`update fix_pull_requests f set state = 'reverted', revert_sha = m.sha,
        reverted_at = ${p.at.toISOString()}::timestamptz, updated_at = now()
      from (
        select distinct on (x.id) x.id, c.sha
        from fix_pull_requests x
        join repositories r on r.id = x.repository_id
        join json_to_recordset(${JSON.stringify(commits)}::json) as c(sha text, message text)
          on starts_with(c.message, 'Revert "' || x.title || '"')
            or starts_with(c.message, 'Revert "' || x.title || ' (#' || x.number || ')"')
            or (x.merge_sha is not null and position('This reverts commit ' || x.merge_sha in c.message) > 0)
            or position('This reverts commit ' || x.commit_sha in c.message) > 0
        where r.github_id = ${p.githubRepositoryId} and r.data_collection and x.base = ${p.branch}
          and x.state = 'merged'
        order by x.id
      ) m
      where f.id = m.id and f.state = 'merged'
      returning f.number`,
  );
  return rows.map((r) => r.number).sort((a, b) => a - b);
}

/** The stored fix pull requests of a repository, oldest first. */
export async function listFixPullRequests(db: DbOrTx, repositoryId: number): Promise<FixPullRequestRow[]> {
  return db
    .select()
    .from(fixPullRequests)
    .where(eq(fixPullRequests.repositoryId, repositoryId))
    .orderBy(asc(fixPullRequests.id));
}
