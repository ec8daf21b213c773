/** Progress on a terminal: one rewritten line with a bar; plain lines when stderr is not a terminal. */
import type { ProgressEvent } from "../engine/ports.js";

export interface ProgressReporter {
  event(e: ProgressEvent): void;
  bar(label: string, done: number, total: number, extra?: string): void;
  line(text: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressReporter {
  const tty = stream.isTTY === true;
  let open = false;
  const write = (text: string) => {
    if (quiet) return;
    if (tty) {
      stream.write(`\r\u001b[2K${fitLine(text, stream.columns)}`);
      open = true;
    } else stream.write(`${text}\n`);
  };
  const reporter: ProgressReporter = {
    event(e) {
      if (e.phase === "verify") {
        if (e.total > 0) reporter.bar("verify", e.done, e.total, e.candidate);
      } else write(`${e.phase}: ${e.message}`);
    },
    bar(label, done, total, extra = "") {
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const pct = total > 0 ? Math.round((done / total) * 100) : 0;
      if (!tty && done !== total && done % Math.max(1, Math.floor(total / 10)) !== 0) return;
      write(`${label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total} ${pct}% ${extra}`);
    },
    line(text) {
      if (quiet) return;
      if (open && tty) stream.write("\r\u001b[2K");
      open = false;
      stream.write(`${text}\n`);
    },
    done() {
      if (open && tty && !quiet) stream.write("\r\u001b[2K");
      open = false;
    },
  };
  return reporter;
}

/**
 * A progress line cut to the terminal's width (one column short of it, so that the cursor does not wrap). A
 * terminal that reports no width (0 or undefined: a pseudo-terminal without a size) gets the whole line.
 */
export function fitLine(text: string, columns: number | undefined): string {
  if (columns === undefined || !Number.isFinite(columns) || columns <= 1) return text;
  return text.length < columns ? text : `${text.slice(0, columns - 2)}…`;
}
