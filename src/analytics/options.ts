/** Errors of the analytics commands that the user can fix (a bad date, an unknown format). */
export class AnalyticsOptionError extends Error {
  /** The CLI prints the message without a stack. */
  readonly userFacing = true;
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = "AnalyticsOptionError";
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A date option: `YYYY-MM-DD` (midnight UTC) or an ISO 8601 timestamp with a zone (`2025-03-01T12:00:00Z`).
 * A timestamp without a zone is refused rather than read in the machine's zone, so that the same command gives the
 * same rows everywhere.
 */
export function parseDateOption(option: string, value: string): Date {
  const v = value.trim();
  const m = DATE_ONLY.exec(v);
  if (m) {
    const d = new Date(`${v}T00:00:00Z`);
    // Date() rolls 2025-02-30 over to March; a date that does not round-trip does not exist.
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) {
      throw new AnalyticsOptionError(option, `"${value}" is not a calendar date (expected YYYY-MM-DD)`);
    }
    return d;
  }
  if (DATE_TIME.test(v)) {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new AnalyticsOptionError(
    option,
    `"${value}" is not a date (expected YYYY-MM-DD, or an ISO 8601 time with a zone such as 2025-03-01T12:00:00Z)`,
  );
}

/** A number option within [min, max] (integers only when `integer`). */
export function parseNumberOption(
  option: string,
  value: string,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new AnalyticsOptionError(
      option,
      `must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got "${value}"`,
    );
  }
  return n;
}
