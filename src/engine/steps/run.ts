/** One cycle under way, as its steps see it: the request, the ports, the summary being filled, the timings. */
import type { CycleDeps, ProgressEvent, StartedCycle, TestSession, TypeCheckerSession } from "../ports.js";
import { CycleAbortedError, type CycleRequest } from "../request.js";
import type { CycleSummary } from "../types.js";

export interface CycleRun {
  req: CycleRequest;
  deps: CycleDeps;
  /** The stored cycle; null when nothing is stored (--no-store). */
  cycle: StartedCycle | null;
  startedAt: Date;
  summary: CycleSummary;
  /** Sessions the steps opened, closed when the cycle ends however it ends. */
  sessions: { typeChecker: TypeCheckerSession | null; tests: TestSession | null };
  progress(event: ProgressEvent): void;
  /** Runs one phase, recording its duration (in `summary.durationsMs`); refuses to start once aborted. */
  timed<T>(phase: string, f: () => Promise<T>): Promise<T>;
}

export function createRun(
  req: CycleRequest,
  deps: CycleDeps,
  cycle: StartedCycle | null,
  startedAt: Date,
  summary: CycleSummary,
): CycleRun {
  const durations = summary.durationsMs;
  return {
    req,
    deps,
    cycle,
    startedAt,
    summary,
    sessions: { typeChecker: null, tests: null },
    progress: deps.onProgress ?? (() => {}),
    async timed(phase, f) {
      if (req.signal?.aborted) throw new CycleAbortedError(phase);
      const t = performance.now();
      try {
        return await f();
      } finally {
        durations[phase] = Math.round(performance.now() - t);
      }
    },
  };
}
