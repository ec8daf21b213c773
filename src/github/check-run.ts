/**
 * The check run of a cycle: created as in progress when the job starts, then completed with the summary
 * (rendered by the one renderer in summary/render.ts), annotations at the lines each fix changes, and up to three
 * "Apply" buttons for verified fixes.
 */
import { diffLines } from "../engine/diff.js";
import type { CandidateResult, CycleSummary } from "../engine/types.js";
import {
  describeOutcome,
  distinctPatches,
  escapeMarkdown,
  GITHUB_TEXT_LIMIT,
  renderSummary,
  stripTerminalEscapes,
  truncate,
} from "../summary/render.js";
import { applyActionId } from "./actions.js";
import type {
  Annotation,
  CheckConclusion,
  CheckRunAction,
  CheckRunInfo,
  CheckRunOutput,
  GitHubApi,
  RepoRef,
} from "./api.js";

export const CHECK_RUN_NAME = "ODAVL Autopilot";

/** GitHub takes at most 50 annotations per request; later requests add to the earlier ones. */
export const ANNOTATIONS_PER_REQUEST = 50;

/**
 * One request's worth: past a screenful of annotations a reviewer reads the summary instead (which lists every
 * fix either way), and each further batch is another write. The ones kept are those that matter most: verified
 * fixes first, most trusted first; the summary says how many there were.
 */
export const MAX_ANNOTATIONS = 50;

/** GitHub shows at most three action buttons on a check run. */
const MAX_ACTIONS = 3;

/** GitHub's limit on an annotation's raw_details. */
const RAW_DETAILS_LIMIT = 64 * 1024;

export interface CheckRunContent {
  conclusion: CheckConclusion;
  output: CheckRunOutput & { text: string };
  annotations: Annotation[];
  actions: CheckRunAction[];
}

export interface CheckRunContentOptions {
  /** Offer "Apply" buttons (installed repositories). */
  offerApply: boolean;
}

export function buildCheckRunContent(cycle: CycleSummary, options: CheckRunContentOptions): CheckRunContent {
  // One row, one button and one set of annotations per distinct patch, numbered as the summary numbers them.
  const results = distinctPatches(cycle.results).map((s) => s.result);
  const actions = options.offerApply ? applyActions(results) : [];
  const total = annotationTotal(results);
  const note =
    total > MAX_ANNOTATIONS
      ? `\n\nAnnotations: the ${MAX_ANNOTATIONS} changed regions that matter most (verified and most trusted ` +
        `fixes first) of ${total}${total >= ANNOTATIONS_EXAMINED ? " or more" : ""}.`
      : "";
  const footer = `${note}${
    actions.length > 0
      ? "\n\n**Apply** opens a pull request with the fix after verifying it again on the branch's current head. " +
        "Nothing is ever pushed to your branches."
      : ""
  }`;
  const rendered = renderSummary(cycle, { maxLength: GITHUB_TEXT_LIMIT - footer.length });
  const verified = results.some((r) => r.outcome?.success);
  return {
    // Suggestions never fail a commit: "neutral" when there is something to look at, "success" otherwise.
    conclusion: verified ? "neutral" : "success",
    output: { title: rendered.title, summary: rendered.summary + footer, text: rendered.text },
    annotations: annotationsFor(results),
    actions,
  };
}

/**
 * Up to three verified, whole-repository fixes, most trusted first. A bundle is not a catalog recipe the apply job
 * could plan again: it gets no button.
 */
function applyActions(results: readonly CandidateResult[]): CheckRunAction[] {
  return results
    .map((r, i) => ({ r, row: i + 1 }))
    .filter(({ r }) => r.outcome?.success === true && r.candidate.scope === "all" && !r.candidate.parts)
    .sort((a, b) => b.r.prediction.trust - a.r.prediction.trust || a.row - b.row)
    .slice(0, MAX_ACTIONS)
    .map(({ r, row }) => ({
      identifier: applyActionId(r.candidate.recipe.id),
      label: `Apply #${row}`,
      description: truncate(r.candidate.recipe.title, 40, "…"),
    }));
}

/**
 * Annotations at the lines each fix changes, in the commit the check run is on: the lines the fix removes or
 * rewrites, or for a pure insertion the line it follows. (Lines of the fixed file would point at the wrong code:
 * the commit holds the file before the fix, and a removal has no line after it.)
 */
export function annotationsFor(results: readonly CandidateResult[]): Annotation[] {
  return annotationsRanked(results).slice(0, MAX_ANNOTATIONS);
}

/** How many changed regions the fixes have (the annotations before the cap). */
function annotationTotal(results: readonly CandidateResult[]): number {
  return annotationsRanked(results).length;
}

function annotationsRanked(results: readonly CandidateResult[]): Annotation[] {
  const order = results
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        Number(b.r.outcome?.success === true) - Number(a.r.outcome?.success === true) ||
        b.r.prediction.trust - a.r.prediction.trust ||
        a.i - b.i,
    );
  const out: Annotation[] = [];
  for (const { r, i } of order) {
    if (out.length >= ANNOTATIONS_EXAMINED) break;
    const c = r.candidate;
    const message =
      `${c.recipe.title} (${c.recipe.id}): trust ${r.prediction.trust.toFixed(2)}, ${r.prediction.tier}, ` +
      `verification ${describeOutcome(r.outcome)}.`;
    for (const file of c.files) {
      for (const hunk of hunks(file.before, file.after)) {
        if (out.length >= ANNOTATIONS_EXAMINED) break;
        out.push({
          path: file.path,
          start_line: hunk.start,
          end_line: hunk.end,
          annotation_level: "notice",
          title: truncate(`#${i + 1} ${c.recipe.id}`, 255, "…"),
          message,
          raw_details: truncate(stripTerminalEscapes(hunk.diff), RAW_DETAILS_LIMIT, "\n…"),
        });
      }
    }
  }
  return out;
}

/** Changed regions counted at most (a bound on the work for a huge cycle; the count says "at least" then). */
const ANNOTATIONS_EXAMINED = 10_000;

/** Changed regions as line ranges of the old file, each with its lines as a diff. */
function hunks(before: string, after: string): { start: number; end: number; diff: string }[] {
  const ops = diffLines(before, after);
  const out: { start: number; end: number; diff: string }[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]?.kind === " ") {
      k++;
      continue;
    }
    const first = k;
    while (k < ops.length && ops[k]?.kind !== " ") k++;
    const region = ops.slice(first, k);
    const removed = region.filter((o) => o.kind === "-").map((o) => o.oldLine);
    // A pure insertion is anchored at the unchanged line before it (or the first line).
    const anchor = Math.max(1, first > 0 ? (ops[first - 1]?.oldLine ?? 1) : 1);
    out.push({
      start: removed.length > 0 ? Math.min(...removed) : anchor,
      end: removed.length > 0 ? Math.max(...removed) : anchor,
      diff: region.map((o) => `${o.kind}${o.text}`).join("\n"),
    });
  }
  return out;
}

/** Creates the check run as in progress; the id is stored by the caller before anything else happens. */
export async function startCheckRun(
  api: GitHubApi,
  repo: RepoRef,
  p: { sha: string; externalId: string; now: Date },
): Promise<number> {
  const { id } = await api.createCheckRun(repo, {
    name: CHECK_RUN_NAME,
    headSha: p.sha,
    externalId: p.externalId,
    status: "in_progress",
    startedAt: p.now,
    output: {
      title: "ODAVL is checking this commit",
      summary:
        "Finding fixes, scoring them and verifying them in a sandbox. This check run is updated when it is done.",
    },
  });
  return id;
}

/**
 * Completes the check run: the first request carries the conclusion, the output, the buttons and the first 50
 * annotations; each further request adds 50 more. `skipAnnotations` is for a retried job whose earlier attempt
 * already added them (GitHub appends annotations, so sending them again would double them).
 */
export async function publishCheckRun(
  api: GitHubApi,
  repo: RepoRef,
  checkRunId: number,
  content: CheckRunContent,
  p: { now: Date; skipAnnotations: boolean },
): Promise<{ requests: number }> {
  const annotations = p.skipAnnotations ? [] : content.annotations;
  const batches: Annotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  await api.updateCheckRun(repo, checkRunId, {
    status: "completed",
    conclusion: content.conclusion,
    completedAt: p.now,
    output: { ...content.output, ...(batches[0] ? { annotations: batches[0] } : {}) },
    actions: content.actions,
  });
  for (const batch of batches.slice(1)) {
    await api.updateCheckRun(repo, checkRunId, {
      output: { title: content.output.title, summary: content.output.summary, annotations: batch },
    });
  }
  return { requests: Math.max(1, batches.length) };
}

/** The check run of a job that failed for good: it must not stay "in progress" forever. */
export async function failCheckRun(
  api: GitHubApi,
  repo: RepoRef,
  checkRunId: number,
  p: { now: Date; error: string; attempts: number },
): Promise<void> {
  await api.updateCheckRun(repo, checkRunId, {
    status: "completed",
    conclusion: "failure",
    completedAt: p.now,
    output: {
      title: "ODAVL could not complete the cycle",
      summary: truncate(
        `The cycle failed ${p.attempts === 1 ? "once" : `${p.attempts} times`} and will not be retried. ` +
          `Re-run this check to try again.\n\n**Error:** ${escapeMarkdown(p.error)}`,
        GITHUB_TEXT_LIMIT,
        "\n\n_The summary was cut to fit GitHub's limit._",
      ),
    },
  });
}

/** The check run of a pull-request job whose head moved on before it ran (a retry of a job that had started). */
export async function supersedeCheckRun(
  api: GitHubApi,
  repo: RepoRef,
  checkRunId: number,
  p: { now: Date; newHead: string },
): Promise<void> {
  await api.updateCheckRun(repo, checkRunId, {
    status: "completed",
    conclusion: "skipped",
    completedAt: p.now,
    output: {
      title: "Superseded by a newer commit",
      summary: `The pull request's head moved on to \`${p.newHead.slice(0, 7)}\`; ODAVL checks that commit instead.`,
    },
  });
}

/**
 * A completed check run that says one thing about a commit (a configuration problem, the answer to an Apply press):
 * the run already there (the first of `name` on `headSha` that `mine` accepts) is updated, without annotations
 * (GitHub would add them a second time); otherwise one is created with them. Returns its id.
 */
export async function putCompletedCheckRun(
  api: GitHubApi,
  ref: RepoRef,
  p: {
    name: string;
    headSha: string;
    externalId: string;
    conclusion: CheckConclusion;
    now: Date;
    output: Omit<CheckRunOutput, "annotations">;
    annotations?: Annotation[];
    mine?: (run: CheckRunInfo) => boolean;
  },
): Promise<number> {
  const [existing] = (await api.findCheckRuns(ref, p.headSha, p.name)).filter(p.mine ?? (() => true));
  if (existing) {
    await api.updateCheckRun(ref, existing.id, {
      status: "completed",
      conclusion: p.conclusion,
      completedAt: p.now,
      output: p.output,
    });
    return existing.id;
  }
  const { id } = await api.createCheckRun(ref, {
    name: p.name,
    headSha: p.headSha,
    externalId: p.externalId,
    status: "completed",
    conclusion: p.conclusion,
    startedAt: p.now,
    completedAt: p.now,
    output: { ...p.output, ...(p.annotations ? { annotations: p.annotations } : {}) },
  });
  return id;
}
