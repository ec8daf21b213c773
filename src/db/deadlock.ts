/** Retrying a transaction that Postgres rolled back to break a deadlock or a serialization conflict. */

/** Postgres's deadlock and serialization failures: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);

function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string") return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Runs a transaction again (up to five attempts in all) when Postgres rolled it back to break a deadlock, after
 * a random wait that doubles each time, so that the transactions that met do not meet again in step. Deadlocks
 * remain possible between installations whose repositories move between them (GitHub transfers, or payloads
 * that say so), which lock the same repository rows in different orders.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= attempts || state === undefined || !RETRYABLE.has(state)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * Math.random()));
    }
  }
}
