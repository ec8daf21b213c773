/**
 * Step 3, Decide: the repository's facts, a feature vector per candidate, the model's and the heuristic's trust
 * and a tier; then, within the cost budget, the candidates of highest expected value, those of recipes on
 * probation shown manual-only.
 */
import type { RecipeHistory } from "../../model/types.js";
import { capCandidates, capLimit } from "../budget.js";
import { decide as score } from "../decide.js";
import { collectFacts, readPackageJson } from "../observe.js";
import { applyProbation } from "../probation.js";
import type { Candidate, Prediction, RepoFacts } from "../types.js";
import type { Planned } from "./act.js";
import type { Observation } from "./observe.js";
import type { CycleRun } from "./run.js";

export interface Decided {
  facts: RepoFacts;
  /** The candidates kept, each with its prediction (same order). */
  candidates: Candidate[];
  predictions: Prediction[];
}

export async function decide(run: CycleRun, observed: Observation, planned: Planned): Promise<Decided> {
  const { req, summary } = run;
  const checker = observed.checker;
  const facts = collectFacts({
    files: observed.listing.files,
    sourceFiles: observed.sourceFiles,
    read: observed.ws.read,
    tsconfig: observed.tsconfig,
    typescriptVersion: checker.typescriptVersion,
    typeCheck: checker.compiler ?? null,
    testCommand: observed.testCommand,
    testsPassing: observed.testsPassing,
    baselineDiagnostics: observed.baselineDiagnostics.length,
    baselineLintFindings: planned.findings.length,
    packageJson: readPackageJson(req.root),
  });
  summary.facts = facts;
  run.progress({ phase: "decide", message: `scoring ${planned.candidates.length} candidates` });
  const scored = await run.timed("decide", () => predict(run, facts, planned.candidates));
  const capped = capCandidates(planned.candidates, scored, capLimit(req.maxCandidates));
  if (capped.cap) summary.cap = capped.cap;
  return {
    facts,
    candidates: capped.candidates,
    predictions: applyProbation(capped.candidates, capped.predictions, planned.standing),
  };
}

/** Trust and tier of each candidate, from its features and its recipe's history before this cycle. */
export async function predict(
  run: CycleRun,
  facts: RepoFacts,
  candidates: readonly Candidate[],
): Promise<Prediction[]> {
  const { req, deps } = run;
  const history =
    deps.store && run.cycle
      ? await deps.store.history({
          repositoryId: run.cycle.repositoryId,
          recipeIds: [...new Set(candidates.map((c) => c.recipe.id))],
          before: run.startedAt,
          // A retried cycle's earlier attempt and other runs on this commit are not history.
          cycleId: run.cycle.cycleId,
          sha: req.sha,
        })
      : new Map<string, RecipeHistory>();
  return score({
    candidates,
    facts,
    history,
    predictor: deps.predictor,
    computeFeatures: deps.computeFeatures,
    thresholds: req.thresholds,
  });
}
