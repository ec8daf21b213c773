/** Errors of workspace operations. Each names the operation and what it was working on. */

export class WorkspaceError extends Error {
  constructor(
    message: string,
    readonly operation: string,
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WorkspaceError";
  }
}

/** A git command failed (clone, fetch, checkout) or a ref could not be resolved. */
export class GitError extends WorkspaceError {
  constructor(
    message: string,
    operation: string,
    target: string,
    readonly stderr: string,
  ) {
    super(message, operation, target);
    this.name = "GitError";
  }
}

/** Installing a repository's dependencies failed or timed out. */
export class InstallError extends WorkspaceError {
  constructor(
    message: string,
    target: string,
    readonly command: readonly string[],
    readonly stderr: string,
  ) {
    super(message, "install", target);
    this.name = "InstallError";
  }
}

/** A path in an edit is absolute, climbs out with `..`, or resolves (through a symlink) outside the copy. */
export class UnsafePathError extends WorkspaceError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`unsafe path ${JSON.stringify(path)}: ${reason}`, "apply-edit", path);
    this.name = "UnsafePathError";
  }
}
