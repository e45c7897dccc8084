import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

/** Every process the harness started and has not yet seen exit: stopped on teardown and on a signal. */
const running = new Set<ManagedProcess>();

export class ManagedProcess {
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        running.delete(this);
        resolve(this.exitCode);
      });
    });
  }

  /** Starts `command` with its stdout and stderr appended to `logFile`. */
  static start(
    name: string,
    command: string,
    args: readonly string[],
    logFile: string,
    env: NodeJS.ProcessEnv = process.env,
  ): ManagedProcess {
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => setTimeout(() => log.end(), 50));
    const managed = new ManagedProcess(name, child, logFile);
    running.add(managed);
    child.once('error', (err) => log.write(`spawn failed: ${err.message}\n`));
    return managed;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Kills what is still running, newest first (so the controller-manager goes before the apiserver before etcd). */
export async function stopAll(graceMs = 10_000): Promise<void> {
  for (const p of [...running].reverse()) await p.stop(graceMs);
}

/** Last resort on an abrupt exit of the test runner: no etcd or apiserver outlives it. */
export function killAllNow(): void {
  for (const p of running) p.child.kill('SIGKILL');
}

/** A port that was free a moment ago on 127.0.0.1. Callers retry when a race takes it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Runs one of the project's build scripts (test/e2e/controlplane/build.sh, test/e2e/node/build-tools.sh) with its
 * progress on our stderr (a cold build takes minutes); resolves to the last line of its stdout: the directory built.
 */
export function directoryFromScript(repoRoot: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`${script} exited ${code}`));
    });
  });
}
