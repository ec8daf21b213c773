/** Stored samples in an in-memory PGlite, for history, registry and training tests. */
import { randomUUID } from "node:crypto";
import type { Db } from "../../src/db/client.js";
import { cycles, outcomes, predictions, repositories } from "../../src/db/schema.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";

export async function addRepository(db: Db, owner: string, name: string): Promise<number> {
  const [row] = await db
    .insert(repositories)
    .values({ owner, name, mode: "shadow" })
    .returning({ id: repositories.id });
  return (row as { id: number }).id;
}

export async function addCycle(db: Db, repositoryId: number): Promise<string> {
  const [row] = await db
    .insert(cycles)
    .values({ repositoryId, runKey: randomUUID(), trigger: "shadow", status: "completed", dataStored: true })
    .returning({ id: cycles.id });
  return (row as { id: string }).id;
}

let counter = 0;

export interface SampleInput {
  repositoryId: number;
  cycleId: string;
  recipeId: string;
  success: boolean;
  /** When the outcome was recorded (the prediction one second earlier). */
  at: Date;
  status?: "verified" | "error";
  features?: number[];
  heuristicTrust?: number;
  featureSchemaVersion?: number;
  /** The commit; "abc" when absent. */
  sha?: string | null;
  patchHash?: string;
}

export async function addSample(db: Db, s: SampleInput): Promise<number> {
  const [id] = await addSamples(db, [s]);
  return id as number;
}

/** Inserts predictions and their outcomes in two statements. */
export async function addSamples(db: Db, inputs: readonly SampleInput[]): Promise<number[]> {
  if (inputs.length === 0) return [];
  const inserted = await db
    .insert(predictions)
    .values(
      inputs.map((s) => {
        const n = counter++;
        return {
          cycleId: s.cycleId,
          repositoryId: s.repositoryId,
          sha: s.sha === undefined ? "abc" : s.sha,
          candidateKey: `${s.recipeId}:${n}`,
          recipeId: s.recipeId,
          family: "eslint",
          safety: "safe",
          scope: "all",
          files: ["src/a.ts"],
          linesAdded: 1,
          linesRemoved: 1,
          // Each sample its own patch unless a test says otherwise: identical patches on a commit are one run.
          patchHash: s.patchHash ?? `h-${n}`,
          featureSchemaVersion: s.featureSchemaVersion ?? FEATURE_SCHEMA_VERSION,
          features: s.features ?? new Array<number>(FEATURE_COUNT).fill(0),
          mlTrust: null,
          heuristicTrust: s.heuristicTrust ?? 0.9,
          trust: s.heuristicTrust ?? 0.9,
          tier: "auto-apply" as const,
          usedMl: false,
          fallbackCause: "missing",
          modelVersion: null,
          latencyMs: 0.1,
          confidence: 0.5,
          reason: "heuristic",
          createdAt: new Date(s.at.getTime() - 1000),
        };
      }),
    )
    .returning({ id: predictions.id });
  const ids = inserted.map((r) => r.id);
  await db.insert(outcomes).values(
    inputs.map((s, i) => ({
      predictionId: ids[i] as number,
      success: s.success,
      status: s.status ?? ("verified" as const),
      diagnosticsBefore: 0,
      diagnosticsAfter: 0,
      newDiagnostics: 0,
      lintBefore: 1,
      lintAfter: 0,
      newLintFindings: 0,
      targetBefore: 1,
      targetAfter: 0,
      tests: "pass" as const,
      verificationScore: s.success ? 1 : 0,
      durationsMs: { total: 1 },
      createdAt: s.at,
    })),
  );
  return ids;
}
