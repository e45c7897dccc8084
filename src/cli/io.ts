import type { Logger } from 'pino';
import type { LogLevel } from './options.js';

/**
 * What only the composition root (src/main.ts) may give: the real process. Commands that run for long (`serve`)
 * need it; the others work on `Io` alone, so tests run them in-process with strings.
 */
export interface ProcessContext {
  /** A logger that writes JSON lines to stdout. */
  readonly createLogger: (level: LogLevel) => Logger;
  /** This replica's name (pull-secret Lease): $POD_NAME, else hostname-pid. */
  readonly identity: string;
  /** The namespace the process runs in: the service account's, else $POD_NAMESPACE; null outside a cluster. */
  readonly namespace: string | null;
  /** Resolves with the signal's name at the first SIGTERM or SIGINT. */
  readonly stopSignal: () => Promise<string>;
}

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  /** Whether stderr is a terminal (a redrawn progress bar) or not (plain lines). */
  readonly stderrIsTerminal?: boolean;
  readonly process?: ProcessContext;
}

/** How a command reports its exit code (0 unless it calls this). */
export type SetExitCode = (code: number) => void;
