// @ts-check
"use strict";
/**
 * Type-check server. Runs under plain `node` inside the sandbox (it loads the repository's own TypeScript, which
 * is repository code) and talks JSON lines over stdin/stdout:
 *   -> {"id":1,"method":"init","params":{"root":"/ws","tsconfigPath":null,"fallbackTypeScript":"/…/typescript","useRepoTypeScript":true}}
 *   <- {"id":1,"result":{"typescriptVersion":"5.9.3","typescriptPath":"…","fromRepository":true,"repository":null,
 *       "notes":[],"files":123}}
 *   -> {"id":2,"method":"baseline"}                                  <- {"id":2,"result":{"diagnostics":[…]}}
 *   -> {"id":3,"method":"check","params":{"overrides":{"src/a.ts":"…"}}}  <- {"id":3,"result":{"diagnostics":[…]}}
 *   errors: {"id":n,"error":{"message":"…"}}
 *
 * Speed comes from TypeScript's semantic-diagnostics builder. The baseline builder keeps every file's diagnostics
 * and declaration signature; each candidate program is created from the baseline program (unchanged SourceFile
 * objects are reused, so nothing is parsed or bound twice) and its builder from the baseline builder, so only the
 * edited files, and the files whose view of an edited file's exported shape changed, are checked again. Every
 * candidate starts from the baseline, not from the previous candidate, so "restoring" costs nothing.
 *
 * Plain CommonJS on purpose: it must run on the Node inside the sandbox with no build step and no dependency.
 * It is type-checked all the same (`// @ts-check`, JSDoc types, against the TypeScript API this product ships) and
 * emitted into dist/ by the build like every other source file.
 */
const path = require("node:path");
const crypto = require("node:crypto");
const fs = require("node:fs");
const readline = require("node:readline");

// Nothing but protocol lines may reach stdout.
const protocolOut = process.stdout;
console.log = console.info = console.debug = (...args) => process.stderr.write(`${args.join(" ")}\n`);

/**
 * @typedef {typeof import("typescript")} TypeScript
 * @typedef {import("typescript").Diagnostic} TsDiagnostic
 * @typedef {import("typescript").SourceFile & { version?: string }} VersionedSourceFile
 * @typedef {import("typescript").CompilerHost} CompilerHost
 * @typedef {import("typescript").CompilerOptions} CompilerOptions
 * @typedef {import("typescript").SemanticDiagnosticsBuilderProgram} Builder
 * @typedef {Parameters<CompilerHost["getSourceFile"]>[1]} LanguageVersionOrOptions
 * @typedef {{ root: string, tsconfigPath?: string | null, fallbackTypeScript: string, useRepoTypeScript?: boolean }} InitParams
 * @typedef {{ dir: string, version: string }} RepositoryTypeScript
 * @typedef {{ version: string | null, reason: string | null } | null} RepositoryNote
 * @typedef {{ file: string, line: number, column: number, code: number, message: string }} Diagnostic
 */

/** The TypeScript that checks: set by init, used only after it. */
let ts = /** @type {TypeScript} */ (/** @type {unknown} */ (null));
let root = "";
/** The repository's compiler options and files: set by init. */
let parsed = /** @type {import("typescript").ParsedCommandLine} */ (/** @type {unknown} */ (null));
/** @type {TsDiagnostic[]} */
let configDiagnostics = [];
/** @type {CompilerHost | null} */
let host = null;
/** @type {import("typescript").Program | undefined} */
let baseProgram;
/** @type {Builder | null} */
let baseBuilder = null;
/** Overrides of the check in progress: absolute path -> content. Empty outside a check. @type {Map<string, string>} */
let overrides = new Map();
/** SourceFiles read from disk, by path and module format: reused by every program. @type {Map<string, VersionedSourceFile | undefined>} */
const diskFiles = new Map();
/** SourceFiles made from overrides, by path and content hash (a candidate checked twice is parsed once). @type {Map<string, VersionedSourceFile>} */
const overrideFiles = new Map();
const OVERRIDE_CACHE_LIMIT = 200;

/** @param {string} text */
function hash(text) {
  return crypto.createHash("sha1").update(text).digest("hex");
}

/**
 * The repository's TypeScript is used when it has the JavaScript API this server needs: 4.5 or newer (its builder
 * and config APIs) and older than 7 (TypeScript 7 is a native compiler with no language-service API in its npm
 * package). Otherwise the TypeScript this product ships checks the baseline and every candidate alike, so that
 * before and after always come from one compiler, and the result says so.
 */
/** @type {[major: number, minor: number]} */
const MIN_TYPESCRIPT = [4, 5];
const FIRST_NATIVE_MAJOR = 7;

/** The repository's node_modules/typescript: its directory and version, read from the manifest (data, not code). */
/** @param {string} root @returns {RepositoryTypeScript | null} */
function repositoryTypeScript(root) {
  // It may be a symlink (workspaces, pnpm), so it is found by path rather than by where require.resolve says it
  // really lives.
  const own = path.join(root, "node_modules", "typescript");
  const manifest = path.join(own, "package.json");
  if (!fs.existsSync(manifest)) return null;
  let version = "";
  try {
    version = String(JSON.parse(fs.readFileSync(manifest, "utf8")).version ?? "");
  } catch {
    // unreadable manifest: no version
  }
  return { dir: own, version };
}

/** Why the repository's TypeScript cannot run this server (null: it can), decided before any of its code runs. */
/** @param {RepositoryTypeScript} repo @returns {string | null} */
function unusableReason(repo) {
  const [major, minor] = repo.version.split(".").map(Number);
  if (major === undefined || minor === undefined || !Number.isInteger(major) || !Number.isInteger(minor)) {
    return "has no readable version";
  }
  if (major >= FIRST_NATIVE_MAJOR) return "has no language-service API";
  if (major < MIN_TYPESCRIPT[0] || (major === MIN_TYPESCRIPT[0] && minor < MIN_TYPESCRIPT[1])) {
    return `is older than ${MIN_TYPESCRIPT.join(".")}, the oldest whose API the type check uses`;
  }
  try {
    // A package without a loadable entry point (a native build, a partial install) has no API to offer either.
    require.resolve(repo.dir);
  } catch {
    return "has no language-service API (no JavaScript entry point)";
  }
  return null;
}

/**
 * @param {InitParams} params
 * @returns {{ ts: TypeScript, typescriptPath: string, fromRepository: boolean, repository: RepositoryNote }}
 */
function loadTypeScript(params) {
  const repo = repositoryTypeScript(params.root);
  /** @param {string | null} reason */
  const fallback = (reason) => ({
    ts: require(params.fallbackTypeScript),
    typescriptPath: params.fallbackTypeScript,
    fromRepository: false,
    repository: repo ? { version: repo.version || null, reason } : null,
  });
  if (!repo) return fallback(null);
  if (!params.useRepoTypeScript) return fallback("was not run: no sandbox to run it in");
  const reason = unusableReason(repo);
  if (reason) return fallback(reason);
  return { ts: require(repo.dir), typescriptPath: repo.dir, fromRepository: true, repository: null };
}

/** The option a diagnostic about compiler options names ("Option 'x' has been removed", "Option 'target=ES3' …"). */
/** @param {TsDiagnostic} d @returns {string | null} */
function optionNamed(d) {
  const text = flatten(d);
  const m =
    /Option '([A-Za-z]+)(?:=[^']*)?'/.exec(text) ??
    /compiler option '([A-Za-z]+)'/.exec(text) ??
    /'--([A-Za-z]+)'/.exec(text);
  return m?.[1] ?? null;
}

/** Options this TypeScript removed or deprecated (5101, 5102), or whose value it removed (5107, 5108, 5103). */
const REMOVED_OPTION_CODES = new Set([5101, 5102, 5103, 5107, 5108]);
/** Options this TypeScript does not know (5023, 5025) or whose value it does not know (6046). */
const UNKNOWN_OPTION_CODES = new Set([5023, 5025, 6046]);

/**
 * Defaults that changed in TypeScript 6 (and 7): a repository on those versions that leaves them unset relies on
 * them, so an older compiler checking it gets them explicitly.
 */
const TS6_DEFAULTS = {
  strict: true,
  types: [],
  noUncheckedSideEffectImports: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
};

/**
 * Makes the repository's compiler options acceptable to the product's TypeScript, with a note for each change:
 * options it no longer supports are dropped (they would be reported on every check, and some stop the check), options
 * it does not know are ignored, and a repository on TypeScript 6 or newer gets that version's defaults.
 */
/** @param {RepositoryNote} repository @returns {string[]} */
function adaptOptions(repository) {
  /** @type {string[]} */
  const notes = [];
  const major = Number((repository?.version ?? "").split(".")[0]);
  if (Number.isInteger(major) && major >= 6) {
    /** @type {string[]} */
    const applied = [];
    for (const [name, value] of Object.entries(TS6_DEFAULTS)) {
      if (parsed.options[name] === undefined) {
        parsed.options[name] = value;
        applied.push(`${name}: ${JSON.stringify(value)}`);
      }
    }
    if (parsed.options.module === undefined) {
      parsed.options.module = ts.ModuleKind.ESNext;
      applied.push('module: "esnext"');
    }
    if (parsed.options.moduleResolution === undefined && ts.ModuleResolutionKind.Bundler !== undefined) {
      const kind = parsed.options.module;
      if (kind !== ts.ModuleKind.Node16 && kind !== ts.ModuleKind.NodeNext && kind !== ts.ModuleKind.Node18) {
        parsed.options.moduleResolution = ts.ModuleResolutionKind.Bundler;
        applied.push('moduleResolution: "bundler"');
      }
    }
    if (applied.length > 0) notes.push(`TypeScript ${major} defaults applied: ${applied.join(", ")}`);
  }
  /** @type {string[]} */
  const unknown = [];
  parsed.errors = parsed.errors.filter((d) => {
    if (!UNKNOWN_OPTION_CODES.has(d.code)) return true;
    unknown.push(optionNamed(d) ?? flatten(d));
    return false;
  });
  if (unknown.length > 0)
    notes.push(`ignored, unknown to TypeScript ${ts.version}: ${[...new Set(unknown)].join(", ")}`);
  /** @type {string[]} */
  const dropped = [];
  for (let round = 0; round < 3; round++) {
    const probe = ts.createProgram({
      rootNames: [],
      options: parsed.options,
      host: ts.createCompilerHost(parsed.options),
    });
    const names = probe
      .getOptionsDiagnostics()
      .filter((d) => REMOVED_OPTION_CODES.has(d.code))
      .map(optionNamed)
      .filter(/** @returns {name is string} */ (name) => name !== null && parsed.options[name] !== undefined);
    if (names.length === 0) break;
    for (const name of new Set(names)) {
      dropped.push(`${name}: ${JSON.stringify(parsed.options[name])}`);
      delete parsed.options[name];
    }
  }
  if (dropped.length > 0) notes.push(`dropped, no longer supported by TypeScript ${ts.version}: ${dropped.join(", ")}`);
  return notes;
}

/** @param {LanguageVersionOrOptions} options */
function formatKey(options) {
  if (options === undefined || typeof options === "number") return "";
  return String(options.impliedNodeFormat ?? "");
}

/** @param {CompilerOptions} options @returns {CompilerHost} */
function createHost(options) {
  const base = ts.createCompilerHost(options, true);
  /** @type {CompilerHost} */
  const h = Object.create(base);
  h.getSourceFile = (fileName, languageVersionOrOptions, onError) => {
    const key = path.resolve(fileName);
    const override = overrides.get(key);
    if (override !== undefined) {
      const cacheKey = `${key}\0${formatKey(languageVersionOrOptions)}\0${hash(override)}`;
      let sf = overrideFiles.get(cacheKey);
      if (!sf) {
        sf = ts.createSourceFile(fileName, override, languageVersionOrOptions, false);
        sf.version = `o:${hash(override)}`;
        if (overrideFiles.size >= OVERRIDE_CACHE_LIMIT) overrideFiles.clear();
        overrideFiles.set(cacheKey, sf);
      }
      return sf;
    }
    const diskKey = `${key}\0${formatKey(languageVersionOrOptions)}`;
    if (diskFiles.has(diskKey)) return diskFiles.get(diskKey);
    /** @type {VersionedSourceFile | undefined} */
    const sf = base.getSourceFile(fileName, languageVersionOrOptions, onError);
    if (sf) sf.version = `d:${hash(sf.text)}`;
    diskFiles.set(diskKey, sf);
    return sf;
  };
  h.fileExists = (fileName) => overrides.has(path.resolve(fileName)) || base.fileExists(fileName);
  h.readFile = (fileName) => {
    const override = overrides.get(path.resolve(fileName));
    return override !== undefined ? override : base.readFile(fileName);
  };
  h.writeFile = () => {};
  h.createHash = hash;
  return h;
}

/** @param {InitParams} params */
function init(params) {
  root = path.resolve(params.root);
  const loaded = loadTypeScript(params);
  ts = loaded.ts;
  configDiagnostics = [];
  const configPath = params.tsconfigPath
    ? path.resolve(root, params.tsconfigPath)
    : ts.sys.fileExists(path.join(root, "tsconfig.json"))
      ? path.join(root, "tsconfig.json")
      : null;
  if (configPath) {
    const read = ts.getParsedCommandLineOfConfigFile(
      configPath,
      { noEmit: true },
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => configDiagnostics.push(d),
      },
    );
    if (!read) throw new Error(`cannot read ${configPath}: ${configDiagnostics.map(flatten).join("; ")}`);
    parsed = read;
  } else {
    // What `tsc --noEmit` does in a directory without a tsconfig would be to print its help; checking every
    // TypeScript file with default options is the useful reading.
    parsed = ts.parseJsonConfigFileContent({ compilerOptions: { noEmit: true } }, ts.sys, root);
  }
  const notes = loaded.fromRepository ? [] : adaptOptions(loaded.repository);
  // Same as `tsc --noEmit`: the command-line flag wins over the tsconfig.
  parsed.options.noEmit = true;
  host = createHost(parsed.options);
  return {
    typescriptVersion: ts.version,
    typescriptPath: loaded.typescriptPath,
    fromRepository: loaded.fromRepository,
    repository: loaded.repository,
    notes,
    files: parsed.fileNames.length,
  };
}

/** @param {import("typescript").Program | undefined} oldProgram */
function createProgram(oldProgram) {
  if (!host) throw new Error("init first");
  return ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    host,
    oldProgram,
    projectReferences: parsed.projectReferences,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
  });
}

/**
 * A program in which every non-declaration file is empty. A builder created from it makes the baseline builder
 * compute real declaration signatures for all files (a builder without an old state uses file versions as
 * signatures, and then the first edit to any file would look like an API change to everything that imports it).
 */
function createPrimingProgram() {
  const base = host;
  if (!base) throw new Error("init first");
  /** @type {CompilerHost} */
  const primingHost = Object.create(base);
  primingHost.getSourceFile = (fileName, languageVersionOrOptions, onError) => {
    if (fileName.endsWith(".d.ts") || fileName.endsWith(".d.mts") || fileName.endsWith(".d.cts")) {
      return base.getSourceFile(fileName, languageVersionOrOptions, onError);
    }
    /** @type {VersionedSourceFile} */
    const sf = ts.createSourceFile(fileName, "", languageVersionOrOptions, false);
    sf.version = "priming";
    return sf;
  };
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host: primingHost });
}

/** @param {TsDiagnostic} d */
function flatten(d) {
  return ts.flattenDiagnosticMessageText(d.messageText, "\n");
}

/** @param {TsDiagnostic} d @returns {Diagnostic} */
function toDiagnostic(d) {
  let file = "";
  let line = 0;
  let column = 0;
  if (d.file) {
    file = path.relative(root, d.file.fileName).split(path.sep).join("/");
    if (d.start !== undefined) {
      const pos = d.file.getLineAndCharacterOfPosition(d.start);
      line = pos.line + 1;
      column = pos.character + 1;
    }
  }
  return { file, line, column, code: d.code, message: flatten(d) };
}

/** @param {Builder} builder @returns {Diagnostic[]} */
function collect(builder) {
  const all = [
    ...configDiagnostics,
    ...builder.getConfigFileParsingDiagnostics(),
    ...builder.getOptionsDiagnostics(),
    ...builder.getSyntacticDiagnostics(),
    ...builder.getSemanticDiagnostics(),
    // After the semantic pass: some global diagnostics only appear once files have been checked.
    ...builder.getGlobalDiagnostics(),
  ];
  /** @type {Set<string>} */
  const seen = new Set();
  /** @type {Diagnostic[]} */
  const out = [];
  for (const d of all) {
    if (d.category !== ts.DiagnosticCategory.Error && d.category !== ts.DiagnosticCategory.Warning) continue;
    const diagnostic = toDiagnostic(d);
    const key = `${diagnostic.file}\0${diagnostic.line}\0${diagnostic.column}\0${diagnostic.code}\0${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(diagnostic);
  }
  out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code - b.code);
  return out;
}

/** @returns {{ diagnostics: Diagnostic[] }} */
function baseline() {
  if (!host) throw new Error("init first");
  if (!baseBuilder) {
    const priming = ts.createSemanticDiagnosticsBuilderProgram(createPrimingProgram(), host);
    baseProgram = createProgram(undefined);
    baseBuilder = ts.createSemanticDiagnosticsBuilderProgram(baseProgram, host, priming);
  }
  return { diagnostics: collect(baseBuilder) };
}

/** @param {{ overrides?: Record<string, unknown> }} params @returns {{ diagnostics: Diagnostic[] }} */
function check(params) {
  if (!baseBuilder) baseline();
  const base = baseBuilder;
  if (!host || !base) throw new Error("init first");
  overrides = new Map();
  for (const [relative, content] of Object.entries(params.overrides ?? {})) {
    if (typeof content !== "string") throw new Error(`override for ${relative} is not a string`);
    overrides.set(path.resolve(root, relative), content);
  }
  try {
    const program = createProgram(baseProgram);
    const builder = ts.createSemanticDiagnosticsBuilderProgram(program, host, base);
    return { diagnostics: collect(builder) };
  } finally {
    overrides = new Map();
  }
}

/** @type {Record<string, ((params: any) => unknown) | undefined>} */
const methods = { init, baseline, check };

/** @param {{ id: unknown, result?: unknown, error?: { message: string, code?: unknown } }} message */
function reply(message) {
  protocolOut.write(`${JSON.stringify(message)}\n`);
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    reply({ id: null, error: { message: "request is not JSON" } });
    return;
  }
  const method = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
  if (!method) {
    reply({ id: request.id, error: { message: `unknown method ${request.method}` } });
    return;
  }
  try {
    reply({ id: request.id, result: method(request.params ?? {}) });
  } catch (error) {
    reply({
      id: request.id,
      error: {
        message: error instanceof Error ? error.message : String(error),
        code: /** @type {{ code?: unknown } | null | undefined} */ (error)?.code ?? null,
      },
    });
  }
});
lines.on("close", () => process.exit(0));
