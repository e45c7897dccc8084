#!/usr/bin/env node
// The composition root: the only place that touches the real process (argv, stdio, environment, signals, the
// log destination, the exit code). Everything below receives what it needs as arguments (docs/architecture.md).
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { runCli } from './cli/program.js';
import type { LogLevel } from './cli/options.js';
import { currentNamespace } from './kube/namespace.js';

/** Log lines wait until this many bytes are pending, or at most this long, before they are written. */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 200;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function createLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service: 'registry-gate' },
      redact: {
        paths: ['*.data', '*.stringData', '*.dockerconfigjson', '*.authorization'],
        censor: '[redacted]',
      },
    },
    // Lines are written in batches of 4 KiB or every 200 ms, whichever comes first (and at exit): one write
    // per admission line cost the 8 KB /mutate about a tenth of its CPU in the benchmark (docs/benchmarks.md).
    pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: readStdin,
  stderrIsTerminal: process.stderr.isTTY,
  process: {
    createLogger,
    identity: process.env['POD_NAME'] || `${hostname()}-${process.pid}`,
    namespace: currentNamespace(),
    stopSignal,
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Not a usage error: a bug. Say so plainly, with the stack for the report.
    process.stderr.write(
      `registry-gate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
