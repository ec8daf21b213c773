/**
 * The test services of test/helpers/services.mjs (a JavaScript module: the test command runs it without a build),
 * with their types.
 */
// The module is JavaScript without JSDoc types: its exports are typed below.
import * as untyped from "../helpers/services.mjs";

export interface PostgresServer {
  url: string;
  port: number;
  start(): void;
  /** Stops at once ("immediate": connections are cut, as in a crash). */
  stop(mode?: "immediate" | "fast" | "smart"): void;
  destroy(): void;
}

export const freePort: () => Promise<number> = untyped.freePort;
export const startPostgres: (o?: { port?: number; maxConnections?: number }) => Promise<PostgresServer> =
  untyped.startPostgres;
/** Path of a PostgreSQL program (pg_dump, pg_restore, …), or null. */
export const postgresBinary: (name: string) => string | null = untyped.postgresBinary;
