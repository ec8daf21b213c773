import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

class BiomeRunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BiomeRunError";
  }
}

interface Command {
  file: string;
  prefix: string[];
}

let resolved: Command | undefined;

/**
 * The installed Biome binary, run directly: the npm wrapper would add a Node start-up per run and shells out to
 * `ldd` on Linux to tell glibc from musl, which trying both package names avoids.
 */
function biomeCommand(): Command {
  if (resolved) return resolved;
  const exe = process.platform === "win32" ? "biome.exe" : "biome";
  const base = `@biomejs/cli-${process.platform}-${process.arch}`;
  for (const pkg of [base, `${base}-musl`]) {
    try {
      resolved = { file: require.resolve(`${pkg}/${exe}`), prefix: [] };
      return resolved;
    } catch {
      // Not installed for this libc; try the next candidate.
    }
  }
  resolved = { file: process.execPath, prefix: [require.resolve("@biomejs/biome/bin/biome")] };
  return resolved;
}

export interface BiomeLocation {
  path: string;
  start: { line: number; column: number };
  end: { line: number; column: number };
}

export interface BiomeDiagnostic {
  severity: string;
  message: string;
  category?: string;
  location?: BiomeLocation;
}

export interface BiomeReport {
  diagnostics: BiomeDiagnostic[];
}

function isReport(value: unknown): value is BiomeReport {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { diagnostics?: unknown }).diagnostics) &&
    typeof (value as { summary?: unknown }).summary === "object"
  );
}

export interface RunOptions {
  cwd: string;
  configPath: string;
  paths: readonly string[];
  write: boolean;
  unsafe: boolean;
  timeoutMs: number;
}

/** Only what the binary needs: it is our own tool, but nothing of the process's secrets should reach it. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { BIOME_LOG_LEVEL: "none", NO_COLOR: "1" };
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Runs `biome lint` once and parses its JSON report. Exit code 1 (diagnostics were emitted) is a normal run. */
export function runBiome(options: RunOptions): Promise<BiomeReport> {
  const command = biomeCommand();
  const args = [
    ...command.prefix,
    "lint",
    `--config-path=${options.configPath}`,
    "--reporter=json",
    "--max-diagnostics=none",
    "--diagnostic-level=info",
    "--colors=off",
    "--no-errors-on-unmatched",
    ...(options.write ? ["--write"] : []),
    ...(options.unsafe ? ["--unsafe"] : []),
    "--",
    ...options.paths,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, args, {
      cwd: options.cwd,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs,
      killSignal: "SIGKILL",
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) =>
      reject(new BiomeRunError(`cannot start biome: ${error.message}`, null, "", { cause: error })),
    );
    child.on("close", (code, signal) => {
      const err = Buffer.concat(stderr).toString("utf8");
      if (signal !== null) {
        reject(new BiomeRunError(`biome was killed by ${signal} (time limit ${options.timeoutMs} ms)`, code, err));
        return;
      }
      const out = Buffer.concat(stdout).toString("utf8").trim();
      let parsed: unknown;
      try {
        parsed = JSON.parse(out);
      } catch (cause) {
        reject(
          new BiomeRunError(`biome exited with ${code} without a JSON report: ${err.slice(0, 2000)}`, code, err, {
            cause,
          }),
        );
        return;
      }
      if (!isReport(parsed) || (code !== 0 && code !== 1)) {
        reject(new BiomeRunError(`biome exited with ${code}: ${err.slice(0, 2000)}`, code, err));
        return;
      }
      resolve(parsed);
    });
  });
}
