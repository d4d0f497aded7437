/** Exit codes, documented in `--help` and the README. */
export const EXIT = {
  /** Every document has a valid record. */
  ok: 0,
  /** The run could not start: arguments, configuration, unreadable path. */
  cannotStart: 1,
  /** The run completed and some documents were rejected (each with reasons). */
  rejected: 2,
  /** The run did not complete: some document has no outcome. */
  incomplete: 3,
} as const;

export const EXIT_HELP = `
Exit codes:
  0  every document has a valid record
  1  the run could not start (arguments, configuration, unreadable path)
  2  the run completed and some documents were rejected (see rejected/<docId>.json)
  3  the run did not complete (some document has no outcome)`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * A reader that stops early (`docbatch status | head`) closes the pipe: that is the reader's
 * choice, not a failure of ours, so the process ends quietly instead of with an EPIPE stack.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

let guarded = false;

export const processIo: Io = {
  out: (t) => {
    if (!guarded) {
      guarded = true;
      endQuietlyOnClosedPipe(process.stdout);
      endQuietlyOnClosedPipe(process.stderr);
    }
    process.stdout.write(t);
  },
  err: (t) => process.stderr.write(t),
};
