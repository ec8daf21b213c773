import { createHash } from "node:crypto";
import path from "node:path";
import ts from "typescript";
import type { RecipeWorkspace } from "../types.js";
import { isJavaScriptFile, isTypeScriptFile, toAbsolute } from "./files.js";

/**
 * Options turned on for our own analysis only: they make TypeScript report, as errors, what the code fixes of the
 * catalog address (unused code, missing `override`, imports that only carry types, unreachable code, unused
 * labels). The repository's build is never run with them. They only add diagnostics, so one program serves every
 * recipe of the family.
 */
const ANALYSIS_OVERLAY: ts.CompilerOptions = {
  noUnusedLocals: true,
  noUnusedParameters: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  allowUnreachableCode: false,
  allowUnusedLabels: false,
  noEmit: true,
};

/** Options that conflict with the overlay and only affect emit. */
const DROPPED_OPTIONS = ["importsNotUsedAsValues", "preserveValueImports"] as const;

/** Used when the repository has no tsconfig: strict, modern, permissive about module resolution. */
function defaultOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    allowJs: true,
    checkJs: false,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
  };
}

export class TsConfigError extends Error {
  constructor(
    readonly tsconfigPath: string,
    readonly diagnostics: readonly ts.Diagnostic[],
  ) {
    super(
      `cannot read ${tsconfigPath}: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")).join("; ")}`,
    );
    this.name = "TsConfigError";
  }
}

interface ParsedConfig {
  options: ts.CompilerOptions;
  fileNames: string[];
}

function isInside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function readConfig(root: string, tsconfigPath: string | undefined): ParsedConfig {
  if (tsconfigPath === undefined) return { options: defaultOptions(), fileNames: [] };
  let fatal: ts.Diagnostic | undefined;
  const parsed = ts.getParsedCommandLineOfConfigFile(
    tsconfigPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        fatal = d;
      },
    },
  );
  if (parsed === undefined) throw new TsConfigError(tsconfigPath, fatal ? [fatal] : []);
  // Files a tsconfig names outside the repository are never given to the language service (nor read).
  const fileNames = parsed.fileNames.map((f) => toAbsolute(root, f)).filter((f) => isInside(root, f));
  return { options: parsed.options, fileNames };
}

interface ScopedFile {
  rel: string;
  text: string;
  version: number;
  snapshot: ts.IScriptSnapshot;
}

/** Source characters of files read from the disk the registry keeps parsed when no project uses them. */
const RETAINED_TEXT = 16 * 1024 * 1024;

/** TypeScript's own lib files (lib.es2022.d.ts …): every project of every cycle reads them, from one place. */
const TYPESCRIPT_LIB = `${path.dirname(ts.getDefaultLibFilePath({}))}${path.sep}`;
const isTypeScriptLib = (fileName: string) => fileName.startsWith(TYPESCRIPT_LIB);

/**
 * A document registry that keeps TypeScript's lib files parsed after the last project using them is gone, so that
 * the next cycle does not parse them again (most of a small repository's program). Projects with the same parsing
 * options share a file, as in any registry. At most `budget` characters of such files are kept beyond what live
 * projects use, the least recently used let go first; a kept file is used again only at the same version, and a
 * project's version of a disk file is a hash of its text (see TsProject), so a file that changed on disk is parsed
 * again.
 *
 * A checkout's own node_modules is not kept: each cycle works in a checkout of its own, at a new path, so nothing
 * kept from one would serve the next; and a kept declaration file can hold a whole program. A file that augments
 * other modules or the global scope has its symbols merged by the checker into symbols of the checker's own, which
 * hold the program's types: vitest's declarations kept 820 MiB of gcanti/fp-ts's heap alive after its project was
 * disposed, where TypeScript's lib files alone keep 34 MiB.
 */
export function retainingRegistry(
  budget = RETAINED_TEXT,
  base: ts.DocumentRegistry = ts.createDocumentRegistry(ts.sys.useCaseSensitiveFileNames),
  keep: (fileName: string) => boolean = isTypeScriptLib,
): ts.DocumentRegistry & { retained(): number } {
  /** The registry's own reference to each kept file, most recently used last. */
  const kept = new Map<string, { path: ts.Path; sf: RegistryFile; key: ts.DocumentRegistryBucketKey; size: number }>();
  let size = 0;
  const letGo = (id: string) => {
    const k = kept.get(id);
    if (!k) return;
    kept.delete(id);
    size -= k.size;
    base.releaseDocumentWithKey(k.path, k.key, k.sf.scriptKind, k.sf.impliedNodeFormat);
  };
  return {
    ...base,
    acquireDocumentWithKey(fileName, path, host, key, snapshot, version, scriptKind, options) {
      const sf = base.acquireDocumentWithKey(
        fileName,
        path,
        host,
        key,
        snapshot,
        version,
        scriptKind,
        options,
      ) as RegistryFile;
      if (!keep(fileName)) return sf;
      const id = `${key}|${sf.impliedNodeFormat ?? ""}|${sf.scriptKind}|${path}`;
      const held = kept.get(id);
      if (held) {
        kept.delete(id);
        kept.set(id, held);
        return sf;
      }
      // The registry's own reference: released when the file is let go.
      base.acquireDocumentWithKey(fileName, path, host, key, snapshot, version, scriptKind, options);
      const n = snapshot.getLength();
      kept.set(id, { path, sf, key, size: n });
      size += n;
      for (const oldest of kept.keys()) {
        if (size <= budget) break;
        letGo(oldest);
      }
      return sf;
    },
    retained: () => kept.size,
  };
}

/** What a language service passes when it releases a file (a field TypeScript does not export). */
type RegistryFile = ts.SourceFile & { scriptKind: ts.ScriptKind };

/** TypeScript's lib files are shared between projects with identical options, and across cycles. */
const documentRegistry = retainingRegistry();

/**
 * One language service over one repository checkout. Sources in scope are read through the workspace (so patched
 * contents can be analysed without touching the disk); everything else the program needs (lib files, dependency
 * declarations, files outside scope) comes from the disk.
 */
export class TsProject {
  readonly options: ts.CompilerOptions;
  readonly service: ts.LanguageService;
  private readonly configFileNames: readonly string[];
  private readonly scoped = new Map<string, ScopedFile>();
  private readonly diskSnapshots = new Map<string, { snapshot: ts.IScriptSnapshot; version: string } | undefined>();
  /** Files that programWith gave another text, with their synced entries. */
  private readonly overridden = new Map<string, ScopedFile>();
  private rootNames: string[] = [];
  private projectVersion = 0;
  private ws: RecipeWorkspace;

  constructor(ws: RecipeWorkspace) {
    this.ws = ws;
    const config = readConfig(ws.root, ws.tsconfigPath);
    const options: ts.CompilerOptions = { ...config.options, ...ANALYSIS_OVERLAY };
    for (const name of DROPPED_OPTIONS) delete options[name];
    this.options = options;
    this.configFileNames = config.fileNames;
    this.service = ts.createLanguageService(this.createHost(), documentRegistry);
    this.sync(ws);
  }

  get root(): string {
    return this.ws.root;
  }

  get tsconfigPath(): string | undefined {
    return this.ws.tsconfigPath;
  }

  /** Whether TypeScript analyses this repository-relative file in this project. */
  accepts(rel: string): boolean {
    return isTypeScriptFile(rel) || (this.options.allowJs === true && isJavaScriptFile(rel));
  }

  abs(rel: string): string {
    return toAbsolute(this.ws.root, rel);
  }

  /** Picks up the workspace's current contents; bumps versions only of files whose text changed. */
  sync(ws: RecipeWorkspace): void {
    this.ws = ws;
    this.overridden.clear();
    let changed = false;
    const seen = new Set<string>();
    for (const rel of ws.files) {
      if (!this.accepts(rel)) continue;
      const abs = this.abs(rel);
      seen.add(abs);
      const text = ws.read(rel);
      const current = this.scoped.get(abs);
      if (current !== undefined && current.text === text) continue;
      this.scoped.set(abs, {
        rel,
        text,
        version: (current?.version ?? 0) + 1,
        snapshot: ts.ScriptSnapshot.fromString(text),
      });
      changed = true;
    }
    for (const abs of [...this.scoped.keys()]) {
      if (!seen.has(abs)) {
        this.scoped.delete(abs);
        changed = true;
      }
    }
    if (changed || this.projectVersion === 0) {
      const names = new Set(this.configFileNames);
      for (const abs of this.scoped.keys()) names.add(abs);
      this.rootNames = [...names];
      this.projectVersion++;
    }
  }

  /**
   * The program of the last synced workspace with `text` as the contents of one file in scope (a file given another
   * text by an earlier call has its own back), for typescript-eslint's type-aware rules: one program serves the code
   * fixes and the lint. Undefined when the file is not in scope.
   */
  programWith(rel: string, text: string): ts.Program | undefined {
    const abs = this.abs(rel);
    const current = this.scoped.get(abs);
    if (current === undefined) return undefined;
    let changed = false;
    for (const [other, synced] of this.overridden) {
      if (other === abs) continue;
      const now = this.scoped.get(other);
      this.scoped.set(other, { ...synced, version: (now?.version ?? synced.version) + 1 });
      this.overridden.delete(other);
      changed = true;
    }
    if (current.text !== text) {
      if (!this.overridden.has(abs)) this.overridden.set(abs, current);
      this.scoped.set(abs, { rel, text, version: current.version + 1, snapshot: ts.ScriptSnapshot.fromString(text) });
      changed = true;
    }
    if (changed) this.projectVersion++;
    return this.service.getProgram();
  }

  sourceFile(rel: string): ts.SourceFile | undefined {
    return this.service.getProgram()?.getSourceFile(this.abs(rel));
  }

  text(rel: string): string | undefined {
    return this.scoped.get(this.abs(rel))?.text;
  }

  /** Repository-relative path of an absolute file name, when that file is in scope. */
  scopedRel(abs: string): string | undefined {
    return this.scoped.get(abs.replace(/\\/g, "/"))?.rel;
  }

  dispose(): void {
    this.service.dispose();
    this.scoped.clear();
    this.diskSnapshots.clear();
  }

  /** A file outside scope as the disk has it, with a version from its text (a kept parse is of the same text). */
  private readDisk(fileName: string): { snapshot: ts.IScriptSnapshot; version: string } | undefined {
    if (this.diskSnapshots.has(fileName)) return this.diskSnapshots.get(fileName);
    const text = ts.sys.readFile(fileName);
    const read =
      text === undefined
        ? undefined
        : {
            snapshot: ts.ScriptSnapshot.fromString(text),
            version: `disk:${createHash("sha1").update(text).digest("base64")}`,
          };
    this.diskSnapshots.set(fileName, read);
    return read;
  }

  private createHost(): ts.LanguageServiceHost {
    return {
      getCompilationSettings: () => this.options,
      getProjectVersion: () => String(this.projectVersion),
      getScriptFileNames: () => this.rootNames,
      getScriptVersion: (fileName) => {
        const scoped = this.scoped.get(fileName);
        return scoped ? String(scoped.version) : (this.readDisk(fileName)?.version ?? "0");
      },
      getScriptSnapshot: (fileName) => this.scoped.get(fileName)?.snapshot ?? this.readDisk(fileName)?.snapshot,
      getCurrentDirectory: () => this.ws.root,
      getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
      useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
      fileExists: (fileName) => this.scoped.has(fileName) || ts.sys.fileExists(fileName),
      readFile: (fileName, encoding) => this.scoped.get(fileName)?.text ?? ts.sys.readFile(fileName, encoding),
      readDirectory: (dir, extensions, exclude, include, depth) =>
        ts.sys.readDirectory(dir, extensions, exclude, include, depth),
      directoryExists: (dir) => ts.sys.directoryExists(dir),
      getDirectories: (dir) => ts.sys.getDirectories(dir),
      realpath: (p) => (this.scoped.has(p) ? p : (ts.sys.realpath?.(p) ?? p)),
      getNewLine: () => "\n",
    };
  }
}

const projects = new Map<string, TsProject>();

/** The cached project of a workspace root, brought up to date with the workspace's contents. */
export function projectFor(ws: RecipeWorkspace): TsProject {
  const key = path.resolve(ws.root);
  const cached = projects.get(key);
  if (cached !== undefined && cached.tsconfigPath === ws.tsconfigPath) {
    cached.sync(ws);
    return cached;
  }
  cached?.dispose();
  const project = new TsProject(ws);
  projects.set(key, project);
  return project;
}

export function disposeProject(root: string): void {
  const key = path.resolve(root);
  projects.get(key)?.dispose();
  projects.delete(key);
}
