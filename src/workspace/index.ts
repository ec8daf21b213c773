/** Checking out repositories, installing their dependencies without running them, and candidate copies. */
export {
  applyCandidateEdits,
  type CandidateCopy,
  type CandidateEdit,
  createCandidateCopy,
  createWorkingCopy,
  removeCandidateCopy,
  resetCandidateCopy,
  resolveInside,
  validateRelative,
  type WorkingCopy,
} from "./candidate.js";
export { type CheckoutOptions, type CheckoutResult, checkout, createWorkspaceRoot, redactSource } from "./checkout.js";
export { GitError, InstallError, UnsafePathError, WorkspaceError } from "./errors.js";
export {
  detectPackageManager,
  detectTestCommand,
  detectTests,
  type NoTestCommand,
  type PackageManagerInfo,
  type PackageManagerName,
  type TestCommand,
  type TestRunner,
} from "./facts.js";
export { type ListedFiles, type SafeListOptions, type SkipReason, safeListFiles } from "./files.js";
export { type InstallOptions, type InstallResult, type InstallStep, installDependencies } from "./install.js";
export { linkedPackageTargets } from "./links.js";
