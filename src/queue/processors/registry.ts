/** Job name -> processor. The in-process worker and the sandboxed child process both dispatch through here. */
import { UnrecoverableError } from "bullmq";
import { withJobContext } from "../../observability/logging.js";
import { jobTags } from "../../observability/sentry.js";
import type { JobName } from "../jobs.js";
import { processApplyJob } from "./apply.js";
import { processCycleJob } from "./cycle.js";
import type { JobInfo, WorkerDeps } from "./worker-deps.js";

type Processor = (job: JobInfo, deps: WorkerDeps) => Promise<unknown>;

const PROCESSORS: Record<JobName, Processor> = {
  cycle: processCycleJob,
  apply: processApplyJob,
};

export async function processJob(job: JobInfo, deps: WorkerDeps): Promise<unknown> {
  const processor = PROCESSORS[job.name as JobName];
  if (!processor) throw new UnrecoverableError(`no processor for jobs named "${job.name}"`);
  // Whatever is logged while the job runs carries its delivery id, job id, repository and sha.
  return withJobContext(jobTags(job), () => processor(job, deps));
}
