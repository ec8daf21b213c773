/**
 * Generated datasets for the analytics tests: rows written through the real schema, every value chosen so that
 * the expected figures can be computed by hand (the tests show the arithmetic).
 */
import { randomUUID } from "node:crypto";
import type { DbOrTx } from "../../src/db/client.js";
import { cycles, outcomes, predictions, repositories } from "../../src/db/schema.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";

export interface RepoSpec {
  owner: string;
  name: string;
  /** Facts stored on the repository's cycles; null for cycles without facts. */
  facts: { linesOfCode: number; hasTests: boolean; framework: string | null } | null;
}

export interface SampleSpec {
  repo: string;
  recipeId: string;
  mlTrust: number | null;
  heuristicTrust: number;
  usedMl: boolean;
  fallbackCause?: string | null;
  latencyMs: number;
  createdAt: Date;
  /** No outcome row when null. */
  outcome: { success: boolean; status?: "verified" | "error"; at?: Date } | null;
  sha?: string;
  candidateKey?: string;
  patchHash?: string;
  features?: number[];
}

/** A valid vector: every feature of schema v2 lies in [0, 1]. */
export function validVector(seed = 0): number[] {
  return Array.from({ length: FEATURE_COUNT }, (_, i) => ((i * 7 + seed * 13) % 10) / 10);
}

const tierOf = (t: number): "auto-apply" | "review-suggested" | "manual-only" =>
  t >= 0.85 ? "auto-apply" : t >= 0.65 ? "review-suggested" : "manual-only";

export interface Inserted {
  repoIds: Map<string, number>;
  /** Prediction ids in the order of the specs. */
  predictionIds: number[];
}

/** Inserts repositories (one cycle per sample, carrying the repository's facts), predictions and outcomes. */
export async function insertDataset(db: DbOrTx, repos: RepoSpec[], samples: SampleSpec[]): Promise<Inserted> {
  const repoIds = new Map<string, number>();
  for (const r of repos) {
    const [row] = await db
      .insert(repositories)
      .values({ owner: r.owner, name: r.name, mode: "shadow", dataCollection: true })
      .returning({ id: repositories.id });
    repoIds.set(`${r.owner}/${r.name}`, (row as { id: number }).id);
  }
  const factsOf = new Map(repos.map((r) => [`${r.owner}/${r.name}`, r.facts]));
  const predictionIds: number[] = [];
  for (let start = 0; start < samples.length; start += 200) {
    const chunk = samples.slice(start, start + 200);
    const cycleRows = chunk.map((s, k) => ({
      id: randomUUID(),
      repositoryId: repoIds.get(s.repo) as number,
      runKey: randomUUID(),
      sha: s.sha ?? `sha-${start + k}`,
      trigger: "shadow",
      status: "completed" as const,
      dataStored: true,
      facts: factsOf.get(s.repo) ?? null,
      startedAt: s.createdAt,
      finishedAt: s.createdAt,
    }));
    await db.insert(cycles).values(cycleRows);
    const inserted = await db
      .insert(predictions)
      .values(
        chunk.map((s, k) => {
          const c = cycleRows[k] as (typeof cycleRows)[number];
          const trust = s.usedMl && s.mlTrust !== null ? s.mlTrust : s.heuristicTrust;
          return {
            cycleId: c.id,
            repositoryId: c.repositoryId,
            sha: c.sha,
            candidateKey: s.candidateKey ?? `${s.recipeId}:all`,
            recipeId: s.recipeId,
            family: s.recipeId.startsWith("ts/") ? "ts-codefix" : s.recipeId.startsWith("biome/") ? "biome" : "eslint",
            safety: "safe",
            scope: "all",
            files: ["src/a.ts"],
            linesAdded: 1,
            linesRemoved: 1,
            patchHash: s.patchHash ?? `patch-${start + k}`,
            featureSchemaVersion: FEATURE_SCHEMA_VERSION,
            features: s.features ?? validVector(start + k),
            mlTrust: s.mlTrust,
            heuristicTrust: s.heuristicTrust,
            trust,
            tier: tierOf(trust),
            usedMl: s.usedMl,
            fallbackCause: s.usedMl ? null : (s.fallbackCause ?? "missing"),
            modelVersion: s.usedMl ? "test-model" : null,
            latencyMs: s.latencyMs,
            confidence: 0.5,
            reason: "test",
            createdAt: s.createdAt,
          };
        }),
      )
      .returning({ id: predictions.id });
    const ids = inserted.map((r) => r.id);
    predictionIds.push(...ids);
    const outcomeRows = chunk.flatMap((s, k) =>
      s.outcome
        ? [
            {
              predictionId: ids[k] as number,
              success: s.outcome.success,
              status: s.outcome.status ?? "verified",
              diagnosticsBefore: 0,
              diagnosticsAfter: 0,
              newDiagnostics: s.outcome.success ? 0 : 1,
              lintBefore: 1,
              lintAfter: 0,
              newLintFindings: 0,
              targetBefore: 1,
              targetAfter: 0,
              tests: "pass" as const,
              verificationScore: s.outcome.success ? 1 : 0,
              durationsMs: { total: 1 },
              createdAt: s.outcome.at ?? new Date(s.createdAt.getTime() + 1000),
            },
          ]
        : [],
    );
    if (outcomeRows.length) await db.insert(outcomes).values(outcomeRows);
  }
  return { repoIds, predictionIds };
}
