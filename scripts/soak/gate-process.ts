import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface GateProcessOptions {
  readonly mainJs: string;
  readonly policyFile: string;
  readonly certDir: string;
  readonly reloadIntervalMs: number;
  readonly shutdownDelayMs: number;
  /** More `serve` flags (limits, say). */
  readonly extraArgs?: readonly string[];
  /** NODE_OPTIONS for the server (the Deployment's V8 heap flags). */
  readonly nodeOptions?: string;
}

export interface LogLine {
  readonly at: number;
  readonly line: Record<string, unknown>;
}

/**
 * `node dist/main.js serve` as a child process on a random loopback port, with its JSON log read line by line:
 * the admission lines carry `uid` and `policyGeneration`, which is how the soak knows which policy answered.
 */
export class GateProcess {
  readonly logs: LogLine[] = [];
  readonly generationByUid = new Map<string, number>();
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(options: GateProcessOptions) {
    this.child = spawn(
      process.execPath,
      [
        options.mainJs,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--policy',
        options.policyFile,
        '--cert-dir',
        options.certDir,
        '--reload-interval',
        String(options.reloadIntervalMs),
        '--shutdown-delay',
        String(options.shutdownDelayMs),
        ...(options.extraArgs ?? []),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: options.nodeOptions ?? process.env['NODE_OPTIONS'] ?? '' },
      },
    );
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      this.logs.push({ at: performance.now(), line });
      if (typeof line['uid'] === 'string' && typeof line['policyGeneration'] === 'number')
        this.generationByUid.set(line['uid'], line['policyGeneration']);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The port from the `registry-gate serving` line. */
  async port(timeoutMs = 20_000): Promise<number> {
    const line = await this.waitForLog((l) => l['msg'] === 'registry-gate serving', timeoutMs);
    return Number(line['port']);
  }

  async waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((l) => match(l.line));
      if (hit) return hit.line;
      if (!this.running) throw new Error(`registry-gate exited: ${this.stderr.trim()}`);
      if (performance.now() > end) throw new Error('registry-gate did not log the expected line in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resident set size in bytes, from /proc (Linux). */
  async rss(): Promise<number | null> {
    try {
      const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      return kb === undefined ? null : Number(kb) * 1024;
    } catch {
      return null;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}
