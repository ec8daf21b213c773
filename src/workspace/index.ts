/** Checking out repositories, installing their dependencies without running them, and candidate copies. */
export {
  applyCandidateEdits,
  type CandidateCopy,
  type CandidateEdit,
  createCandidateCopy,
  createWorkingCopy,
  removeCandidateCopy,
  resetCandidateCopy,
} from "./candidate.js";
export { checkout, createWorkspaceRoot } from "./checkout.js";
export { GitError, InstallError, UnsafePathError, WorkspaceError } from "./errors.js";
export {
  describeTestLine,
  detectPackageManager,
  detectTestCommand,
  detectTests,
  type TestCommand,
  type TestRunner,
} from "./facts.js";
export { safeListFiles } from "./files.js";
export { installDependencies } from "./install.js";
export { linkedPackageTargets } from "./links.js";
