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

export interface RedisServer {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGKILL; `persist` servers keep what they accepted across a restart. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

const services = untyped as {
  freePort(): Promise<number>;
  startPostgres(o?: { port?: number; maxConnections?: number }): Promise<PostgresServer>;
  startRedis(o?: { port?: number; persist?: boolean }): Promise<RedisServer>;
  postgresBinary(name: string): string | null;
};

export const freePort = services.freePort;
export const startPostgres = services.startPostgres;
export const startRedis = services.startRedis;
/** Path of a PostgreSQL program (pg_dump, pg_restore, …), or null. */
export const postgresBinary = services.postgresBinary;
