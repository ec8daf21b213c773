/** Generated training data with a known signal (or none), for training tests and the benchmark. */
import { FEATURE_COUNT, featureIndex, featureSpecs } from "../../src/model/features.js";
import { heuristicLogit, heuristicScore } from "../../src/model/heuristic.js";
import { seededRandom } from "../../src/model/train/random.js";
import type { TrainingSample } from "../../src/model/train/train.js";

export type Signal = "linear" | "interaction" | "none";

export interface SyntheticOptions {
  repositories: number;
  perRepository: number;
  seed?: number;
  signal?: Signal;
}

const ONE_HOT_GROUPS = ["recipe.family.", "recipe.category."];

/** A random vector inside every feature's range, one-hot groups holding exactly one 1. */
export function randomVector(random: () => number): number[] {
  const specs = featureSpecs();
  const v = new Array<number>(FEATURE_COUNT).fill(0);
  specs.forEach((s, i) => {
    if (ONE_HOT_GROUPS.some((g) => s.name.startsWith(g))) return;
    const binary =
      /\.(unsafe|hasTests|strict|fileScope|versionKnown|atLeast45)$|^repo\.ts\.(?!version$)|touches|testsPassing|testsFailing/.test(
        s.name,
      );
    v[i] = binary ? (random() < 0.3 ? 1 : 0) : s.min + random() * (s.max - s.min);
  });
  for (const g of ONE_HOT_GROUPS) {
    const members = specs.map((s, i) => (s.name.startsWith(g) ? i : -1)).filter((i) => i >= 0);
    v[members[Math.floor(random() * members.length)] as number] = 1;
  }
  // The heuristic's logit is what computeFeatures writes: a function of the rest of the vector.
  const h = featureIndex("heuristic.logit");
  const spec = specs[h] as (typeof specs)[number];
  v[h] = Math.min(spec.max, Math.max(spec.min, heuristicLogit(v)));
  return v;
}

export function syntheticSamples(o: SyntheticOptions): TrainingSample[] {
  const random = seededRandom(o.seed ?? 7);
  const crowd = featureIndex("recipe.crowd.successRate");
  const unsafe = featureIndex("recipe.unsafe");
  const noProp = featureIndex("repo.ts.optionRisk");
  const style = featureIndex("recipe.category.style");
  const files = featureIndex("change.files");
  const out: TrainingSample[] = [];
  for (let r = 0; r < o.repositories; r++) {
    const repoEffect = (random() - 0.5) * 0.5;
    for (let k = 0; k < o.perRepository; k++) {
      const v = randomVector(random);
      let z = 0;
      if (o.signal === "linear" || o.signal === undefined) {
        z = 12 * ((v[crowd] as number) - 0.45) - 3 * (v[unsafe] as number) - 2 * (v[files] as number) + repoEffect;
      } else if (o.signal === "interaction") {
        // Fails only when both hold: invisible to a linear model.
        z =
          3 -
          7 * (v[noProp] as number) * (v[style] as number) -
          7 * ((v[files] as number) > 0.5 ? 1 : 0) * (v[unsafe] as number);
      } else {
        z = 1.2;
      }
      const label = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      out.push({ features: v, label, repository: `owner/repo-${r}`, heuristicTrust: heuristicScore(v).trust });
    }
  }
  return out;
}
