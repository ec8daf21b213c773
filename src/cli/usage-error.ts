/** Errors the command line reports as a one-line message (exit 2): a bad argument or setting. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
