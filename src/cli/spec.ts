/**
 * What every command accepts: its usage line, its options with their help, and how many positional arguments it
 * takes. Light on purpose (no import): `odavl <cmd> --help` and argument errors are answered from here before a
 * command's module, and with it the engine, is loaded.
 */

export interface OptionSpec {
  readonly type: "boolean" | "string";
  readonly short?: string;
  /** Placeholder of the value shown in the help, for string options. */
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  /** Positional arguments accepted after the subcommand (when there is one). */
  readonly positionals: number;
  readonly subcommands?: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Further help printed after the options. */
  readonly notes?: readonly string[];
}

const json = { type: "boolean", help: "print the result as JSON on standard output" } as const;

export const SPECS = {
  cycle: {
    usage: "odavl cycle <path> [options]",
    summary: "find, verify and score fixes for the git checkout at <path> (nothing is written to it)",
    positionals: 1,
    options: {
      json: { type: "boolean", help: "print the summary as JSON, with each candidate's patch (unified diff)" },
      recipes: { type: "string", value: "a,b", help: "only these recipes (ids or families) propose fixes" },
      "no-tests": { type: "boolean", help: "do not run the repository's tests" },
      "no-store": {
        type: "boolean",
        help: "keep no history: nothing is stored and no earlier outcome is read, so trust is judged without this repository's history",
      },
      scope: {
        type: "string",
        value: "all|file|both",
        help: "candidates over the whole repository, per file, or both",
      },
      unsandboxed: { type: "boolean", help: "run the repository's code without bubblewrap when it is missing" },
      "max-candidates": {
        type: "string",
        value: "N",
        help: "verify at most N candidates, the highest trust × findings fixed (default CYCLE_MAX_CANDIDATES, 40)",
      },
      "allow-dirty": {
        type: "boolean",
        help: "analyse a working tree with uncommitted changes (the results are labelled as such)",
      },
    },
    notes: [
      "State (the local database) lives under ODAVL_DATA_DIR, else $XDG_DATA_HOME/odavl, else ~/.local/share/odavl.",
    ],
  },
  demo: {
    usage: "odavl demo [options]",
    summary: "build a sample repository with real problems and run a cycle on it",
    positionals: 0,
    options: {
      json,
      dir: { type: "string", value: "DIR", help: "where to build the sample repository (must be empty or absent)" },
      "no-store": {
        type: "boolean",
        help: "keep no history: nothing is stored and no earlier outcome is read, so trust is judged without history",
      },
      "no-tests": { type: "boolean", help: "do not run the sample repository's tests" },
    },
  },
  collect: {
    usage: "odavl collect <list-file> [options]",
    summary: "shadow cycles over the public repositories of a list",
    positionals: 1,
    options: {
      "max-cycles": { type: "string", value: "N", help: "stop after N cycles" },
      concurrency: { type: "string", value: "K", help: "cycles at once (--in-process)" },
      continuous: { type: "boolean", help: "one pass every ten minutes until interrupted" },
      "cycle-timeout": { type: "string", value: "S", help: "seconds per cycle (--in-process; default 1800)" },
      "recipes-per-cycle": { type: "string", value: "N", help: "recipes per cycle (--in-process; default 12)" },
      "file-candidates": { type: "string", value: "N", help: "per-file candidates per recipe (default 5)" },
      tests: { type: "string", value: "all|all-scope|none", help: "which candidates run the tests" },
      recipes: { type: "string", value: "a,b", help: "only these recipes" },
      "in-process": { type: "boolean", help: "run the cycles in this process rather than through the queue" },
      ledger: { type: "string", value: "FILE", help: "record finished repositories in FILE (--in-process)" },
    },
  },
  train: {
    usage: "odavl train [options]",
    summary: "train the trust model on stored outcomes",
    positionals: 0,
    options: {
      out: { type: "string", value: "DIR", help: "where the model files go (default ./models)" },
      dataset: {
        type: "string",
        value: "FILE[,FILE...]",
        help: "train on exported datasets instead of the database (schema v2 rows converted; a later file's commits replace an earlier one's)",
      },
      name: {
        type: "string",
        value: "STEM",
        help: "file name of the model (STEM.onnx, STEM.json); its version is the hash of its content",
      },
      version: { type: "string", value: "V", help: "no longer accepted: a model's version is the hash of its content" },
      seed: { type: "string", value: "N", help: "random seed" },
      promote: { type: "boolean", help: "make the new model current when it passes the checks" },
      force: { type: "boolean", help: "with --promote: promote even when a check objects" },
    },
  },
  model: {
    usage: "odavl model list | current | promote <version> [--force]",
    summary: "the model registry",
    positionals: 1,
    subcommands: ["list", "current", "promote"],
    options: {
      json,
      force: { type: "boolean", help: "promote even when a check objects" },
    },
  },
  recipes: {
    usage: "odavl recipes [probation] [--json] [--family F] [--override <id> | --clear <id>]",
    summary:
      "the recipe catalog; with probation, the recipes shown manual-only or muted for their failure rate, and the operator's overrides",
    positionals: 1,
    options: {
      json,
      family: { type: "string", value: "F", help: "only the recipes of family F (ts-codefix, eslint, biome)" },
      override: { type: "string", value: "ID", help: "exempt recipe ID from probation and muting" },
      clear: { type: "string", value: "ID", help: "remove the override of recipe ID" },
    },
  },
  migrate: {
    usage: "odavl migrate",
    summary: "apply the database migrations (Postgres from DATABASE_URL, or the embedded database)",
    positionals: 0,
    options: {},
  },
  progress: {
    usage: "odavl progress [options]",
    summary: "samples recorded against the target, rate and ETA",
    positionals: 0,
    options: {
      json,
      target: { type: "string", value: "N", help: "the target (default COLLECT_TARGET)" },
      top: { type: "string", value: "N", help: "repositories listed" },
    },
  },
  "check-data": {
    usage: "odavl check-data [options]",
    summary: "the daily data check; exit 1 when a check fails",
    positionals: 0,
    options: {
      json,
      "stale-hours": { type: "string", value: "N", help: "a running cycle older than this is stale" },
      "max-stale-share": { type: "string", value: "X", help: "largest share of stale cycles" },
      "min-completion": { type: "string", value: "X", help: "smallest share of completed cycles" },
      "min-model-usage": { type: "string", value: "X", help: "smallest share of predictions by the model" },
      "max-latency-p99-ms": { type: "string", value: "N", help: "largest p99 prediction latency" },
      "window-days": { type: "string", value: "N", help: "days the checks look back" },
      "max-accuracy-drop": { type: "string", value: "N", help: "largest accuracy drop in points" },
      "min-accuracy-samples": { type: "string", value: "N", help: "samples needed to judge accuracy" },
      "max-duplicates": { type: "string", value: "N", help: "largest number of duplicate samples" },
      "max-invalid-vectors": { type: "string", value: "N", help: "largest number of invalid feature vectors" },
    },
  },
  report: {
    usage: "odavl report [options]",
    summary: "the accuracy report: ACCURACY_REPORT.md and report.html",
    positionals: 0,
    options: {
      out: {
        type: "string",
        value: "DIR",
        help: "write the files to DIR (default: the reports folder of the data directory)",
      },
      json: { type: "boolean", help: "print the figures as JSON (files only with --out)" },
      since: { type: "string", value: "DATE", help: "samples from this date" },
      until: { type: "string", value: "DATE", help: "samples before this date" },
      "min-samples": { type: "string", value: "N", help: "samples needed for a verdict" },
    },
  },
  export: {
    usage: "odavl export --format jsonl|csv [options]",
    summary: "the retraining dataset, streamed",
    positionals: 0,
    options: {
      format: { type: "string", value: "jsonl|csv", help: "the format (required)" },
      since: { type: "string", value: "DATE", help: "samples from this date" },
      out: { type: "string", value: "FILE", help: "write to FILE instead of standard output" },
    },
  },
  web: {
    usage: "odavl web",
    summary: "the GitHub App's web process: verifies and records webhooks, queues cycles",
    positionals: 0,
    options: {},
    notes: ["Needs WEBHOOK_SECRET, DATABASE_URL and REDIS_URL; listens on PORT (see docs/operations.md)."],
  },
  worker: {
    usage: "odavl worker [options]",
    summary: "run queued cycles and fixes until SIGTERM",
    positionals: 0,
    options: {
      concurrency: { type: "string", value: "N", help: "jobs at once (default WORKER_CONCURRENCY)" },
      "no-tests": { type: "boolean", help: "do not run repositories' tests" },
      "no-install": { type: "boolean", help: "do not install repositories' dependencies" },
      unsandboxed: { type: "boolean", help: "run repository code without bubblewrap when it is missing" },
    },
    notes: ["Needs DATABASE_URL, REDIS_URL, APP_ID and PRIVATE_KEY (see docs/operations.md)."],
  },
  shadow: {
    usage: "odavl shadow add <owner/name | git URL | path> [options] | run <o/n> | list | remove <o/n>",
    summary: "read-only repositories run by the operators",
    positionals: 1,
    subcommands: ["add", "run", "list", "remove"],
    options: {
      name: { type: "string", value: "o/n", help: "register under this owner/name" },
      "data-collection": { type: "boolean", help: "record that the owners consented to data collection" },
      "no-data-collection": { type: "boolean", help: "record that they did not" },
      schedule: { type: "string", value: "S", help: 'daily, weekly, off or "<cron>"' },
      run: { type: "boolean", help: "queue a cycle now" },
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(SPECS, name);
}

const HELP = { type: "boolean", short: "h", help: "show this help" } as const;

/** `odavl <cmd> --help`. */
export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = SPECS[name];
  const options: [string, OptionSpec][] = Object.entries({ ...spec.options, help: HELP as OptionSpec });
  const labels = options.map(([flag, o]) =>
    `${o.short ? `-${o.short}, ` : ""}--${flag}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`.trim(),
  );
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  const lines = [`usage: ${spec.usage}`, "", spec.summary, "", "options:"];
  options.forEach(([, o], i) => {
    lines.push(`  ${(labels[i] ?? "").padEnd(width)}${o.help}`);
  });
  if (spec.notes) lines.push("", ...spec.notes);
  return `${lines.join("\n")}\n`;
}

/** `odavl --help`. */
export function usage(): string {
  const names = Object.keys(SPECS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = [
    "usage: odavl <command> [options]",
    "",
    "commands:",
    ...names.map((n) => `  ${n.padEnd(width)}${SPECS[n].summary}`),
    "",
    "odavl <command> --help shows a command's options; odavl --version prints the version.",
  ];
  return lines.join("\n");
}
