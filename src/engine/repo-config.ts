/**
 * `.github/odavl.yml`: what a repository may set. Validated with zod; the types are derived from the schema.
 * Unknown keys are errors (a typo must not silently do nothing).
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { globProblem } from "./glob.js";

export const DEFAULT_PROTECTED_PATHS = [
  "**/migrations/**",
  "**/package-lock.json",
  "**/pnpm-lock.yaml",
  "**/yarn.lock",
  "**/bun.lock",
  "**/bun.lockb",
  "**/*.d.ts",
  "**/node_modules/**",
  "**/dist/**",
  "**/build/**",
  "**/vendor/**",
  "**/.github/**",
] as const;

/** A shell line run in the sandbox: one command line, no NUL bytes, bounded. */
const shellLine = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(2000, "must be at most 2000 characters")
  .regex(/^[^\0]*$/, "must not contain NUL bytes");

/** A protected-path glob, refused with its problem when malformed (a typo must not leave files unprotected). */
const protectedPath = z.string().superRefine((glob, ctx) => {
  const problem = globProblem(glob);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid glob "${glob}": ${problem}` });
});

export const repoConfigSchema = z
  .object({
    dataCollection: z.boolean().default(false),
    autoApply: z.boolean().default(false),
    /** "daily" | "weekly" | "off" | a cron expression (5 fields). */
    schedule: z
      .string()
      .regex(/^(daily|weekly|off|(\S+\s+){4}\S+)$/, 'must be "daily", "weekly", "off" or a 5-field cron expression')
      .default("daily"),
    recipes: z
      .object({
        enable: z.array(z.string().min(1)).optional(),
        disable: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ disable: [] }),
    budget: z
      .object({
        maxFiles: z.number().int().min(1).max(200).default(10),
        maxLinesPerFile: z.number().int().min(1).max(2000).default(40),
      })
      .strict()
      .default({ maxFiles: 10, maxLinesPerFile: 40 }),
    /** Globs (picomatch) of files no candidate may change, on top of {@link DEFAULT_PROTECTED_PATHS}. */
    protectedPaths: z.array(protectedPath).default([]),
    /** How the repository's tests run, when detection from package.json is not what the maintainers run. */
    tests: z
      .object({
        command: shellLine.optional(),
        setup: shellLine.optional(),
        /** Seconds, or "90s" / "10m". */
        timeout: z
          .union(
            [
              z.number().int(),
              z
                .string()
                .regex(/^\d+\s*(s|m)$/)
                .transform((v) => (v.trim().endsWith("m") ? Number.parseInt(v, 10) * 60 : Number.parseInt(v, 10))),
            ],
            { error: 'must be a whole number of seconds or a duration such as "90s" or "10m"' },
          )
          .pipe(z.number().min(10, "must be at least 10 seconds").max(3600, "must be at most 1 hour (3600 seconds)"))
          .optional(),
      })
      .strict()
      .optional(),
    thresholds: z
      .object({
        autoApply: z.number().min(0).max(1).optional(),
        review: z.number().min(0).max(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

export const DEFAULT_REPO_CONFIG: RepoConfig = repoConfigSchema.parse({});

/** Largest `.github/odavl.yml` we read: a config is a few hundred bytes; anything near this is an attack or a mistake. */
export const MAX_CONFIG_BYTES = 64 * 1024;

export interface ConfigIssue {
  /** Dotted path in the file, or "" for the file itself. */
  path: string;
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

export class RepoConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `invalid .github/odavl.yml:\n${issues.map((i) => `  ${i.path || "(file)"}${i.line ? ` (line ${i.line})` : ""}: ${i.message}`).join("\n")}`,
    );
    this.name = "RepoConfigError";
  }
}

/** Parses and validates the file's text. Throws {@link RepoConfigError} with every issue, each with its line. */
export function parseRepoConfig(text: string): RepoConfig {
  if (Buffer.byteLength(text, "utf8") > MAX_CONFIG_BYTES) {
    throw new RepoConfigError([{ path: "", message: `file is larger than ${MAX_CONFIG_BYTES} bytes` }]);
  }
  // maxAliasCount bounds alias expansion ("billion laughs"); uniqueKeys rejects duplicate keys.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lineAt(text, offset));
  if (doc.errors.length > 0) {
    throw new RepoConfigError(
      doc.errors.map((e) => ({ path: "", message: e.message.split("\n")[0] ?? e.message, line: lineOf(e.pos[0]) })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (err) {
    throw new RepoConfigError([{ path: "", message: (err as Error).message }]);
  }
  const parsed = repoConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new RepoConfigError(
      parsed.error.issues.map((i) => {
        const path = i.path.map(String);
        const node = doc.getIn(i.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
        const keys = i.code === "unrecognized_keys" ? ` (${(i as { keys?: string[] }).keys?.join(", ")})` : "";
        return { path: path.join("."), message: `${i.message}${keys}`, line: lineOf(node?.range?.[0]) };
      }),
    );
  }
  const cfg = parsed.data;
  if (
    cfg.thresholds.autoApply !== undefined &&
    cfg.thresholds.review !== undefined &&
    cfg.thresholds.review > cfg.thresholds.autoApply
  ) {
    throw new RepoConfigError([{ path: "thresholds.review", message: "must not exceed thresholds.autoApply" }]);
  }
  return cfg;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
