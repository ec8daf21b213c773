/**
 * The promotion gate: a model decides only when its card shows it beats the heuristic on repositories it never
 * saw. Both its ranking (AUC) and its probabilities (log-loss) must be better, as the mean of the folds' figures
 * and pooled over folds, each with the lower end of the 95% interval from resampling repositories above zero.
 * A model that is better on some repositories and worse on others does not pass: the next installation is a
 * new repository. The gate is computed when the model is trained and travels inside the model file (and its
 * card), so the predictor needs nothing else to know it.
 */
import type { Gate, Interval, ModelCard } from "./card.js";

const describe = (what: string, i: Interval): string =>
  i.low === null || i.high === null
    ? `${what}: no interval`
    : `${what} ${fmt(i.value)} [${fmt(i.low)}, ${fmt(i.high)}] is not above zero`;

const fmt = (v: number | null): string => (v === null ? "n/a" : v.toFixed(4));

/** The gate of a card's figures; a card without the repository-resampled comparison keeps it closed. */
export function gateFromCard(card: Pick<ModelCard, "heldOut">): Gate {
  const c = card.heldOut.comparison;
  if (!c) return { open: false, reasons: ["the card has no comparison with the heuristic resampled by repository"] };
  const reasons: string[] = [];
  const views = [
    ["mean per fold", c.meanPerFold],
    ["pooled", c.pooled],
  ] as const;
  for (const [name, view] of views) {
    const { auc, logLoss } = view.improvement;
    if (!(auc.low !== null && auc.low > 0)) reasons.push(describe(`${name} AUC gain over the heuristic`, auc));
    if (!(logLoss.low !== null && logLoss.low > 0))
      reasons.push(describe(`${name} log-loss gain over the heuristic`, logLoss));
  }
  return { open: reasons.length === 0, reasons };
}
