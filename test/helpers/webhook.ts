import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { startWebhook, type ServeOptions, type Webhook } from '../../src/runtime/webhook.js';

export interface TestWebhook {
  readonly url: string;
  readonly ca: string;
  readonly dir: string;
  readonly policyFile: string;
  readonly webhook: Webhook;
  /** Every log line the server wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: string[];
  post(path: string, body: unknown): request.Test;
  get(path: string): request.Test;
  stop(): Promise<void>;
}

/**
 * Starts the real webhook (the same startWebhook that `registry-gate serve` runs) on a random loopback port, with
 * a policy file and freshly generated certificates in a temp dir, and a logger that records every line.
 */
export async function startTestWebhook(
  policyYaml: string,
  options: {
    reloadIntervalMs?: number;
    shutdownDelayMs?: number;
    mirrors?: ServeOptions['mirrors'];
    limits?: ServeOptions['limits'];
    requireRestriction?: boolean;
  } = {},
): Promise<TestWebhook> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-test-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, policyYaml);
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const webhook = await startWebhook({
    policyFile,
    host: '127.0.0.1',
    port: 0,
    certDir: join(dir, 'certs'),
    reloadIntervalMs: options.reloadIntervalMs ?? 100,
    shutdownDelayMs: options.shutdownDelayMs ?? 0,
    logger: pino({ level: 'debug' }, sink),
    ...(options.mirrors ? { mirrors: options.mirrors } : {}),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.requireRestriction === undefined ? {} : { requireRestriction: options.requireRestriction }),
  });
  const ca = await readFile(join(dir, 'certs', 'ca.crt'), 'utf8');
  const url = `https://127.0.0.1:${webhook.port}`;
  return {
    url,
    ca,
    dir,
    policyFile,
    webhook,
    logs,
    rawLogs,
    post: (path, body) =>
      request(url)
        .post(path)
        .ca(ca)
        .set('Content-Type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    get: (path) => request(url).get(path).ca(ca),
    async stop() {
      await webhook.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
