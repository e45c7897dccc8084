import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { CA_FILE, ensureDevelopmentCertificates } from '../../src/certs/files.js';
import { repoRoot, waitFor, writeE2EOverlay, type Gate } from '../../test/e2e/harness/index.js';
import { ManagedProcess, freePort } from '../../test/e2e/harness/process.js';
import { smallPodReview } from '../workloads.mjs';

/**
 * Webhooks registered exactly where registry-gate is (manifests/base through the harness' e2e overlay), served by
 * bench/baseline-server.mjs, to split what a create gains with registry-gate:
 * - `floor`: `bare-parse`, JSON.parse of the review and "allowed", no patch: what any webhook costs through this
 *   apiserver (two calls over TLS, the review encoded and decoded);
 * - `replay`: `replay`, JSON.parse and registry-gate's own recorded answers (its patch, annotations, audit
 *   annotations): adds what the apiserver does with those answers (applying the patch, the second admission pass
 *   a changed object causes), without any of registry-gate's work.
 */
export type StandInKind = 'floor' | 'replay';

export interface StandIn {
  readonly pid: number;
  readonly port: number;
  readonly overlay: string;
  stop(): Promise<void>;
}

/** Registry-gate's answers for the bench Pod: /mutate's, then /validate's for the mutated Pod (uids dropped). */
export async function recordGateAnswers(gate: Gate, pod: Buffer): Promise<Record<string, unknown>> {
  const ask = (path: string, review: unknown): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(review);
      const req = request(
        { host: '127.0.0.1', port: gate.port, method: 'POST', path, ca: gate.caBundle, timeout: 5000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.once('end', () => {
            const response = (JSON.parse(text) as { response?: Record<string, unknown> }).response;
            if (res.statusCode !== 200 || response?.allowed !== true) {
              reject(
                new Error(`registry-gate ${path} did not allow the bench Pod: ${res.statusCode} ${text}`),
              );
            } else resolve(response);
          });
        },
      );
      req.setHeader('content-type', 'application/json');
      req.once('timeout', () => req.destroy(new Error(`registry-gate ${path}: no answer`)));
      req.once('error', reject);
      req.end(body);
    });
  const review = smallPodReview();
  const object = JSON.parse(pod.toString('utf8')) as { metadata: { namespace: string } };
  review.request = { ...review.request, namespace: object.metadata.namespace, object };
  const mutate = await ask('/mutate', review);
  if (typeof mutate.patch !== 'string')
    throw new Error('registry-gate /mutate returned no patch for the bench Pod');
  const ops = JSON.parse(Buffer.from(mutate.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
  const mutated = jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument;
  const validate = await ask('/validate', {
    ...review,
    request: { ...review.request, object: mutated },
  });
  // The replay server puts each request's own uid in.
  delete mutate.uid;
  delete validate.uid;
  return { '/mutate': mutate, '/validate': validate };
}

export async function startStandIn(
  kind: StandInKind,
  answers: Record<string, unknown> = {},
): Promise<StandIn> {
  await mkdir(join(repoRoot, '.e2e'), { recursive: true });
  const dir = await mkdtemp(join(repoRoot, '.e2e', `bench-${kind}-`));
  const certDir = join(dir, 'certs');
  // ECDSA P-256 from registry-gate's own development certificate code: the same TLS cost as the gate's.
  await ensureDevelopmentCertificates(certDir);
  const caBundle = await readFile(join(certDir, CA_FILE), 'utf8');
  const answersFile = join(dir, 'answers.json');
  await writeFile(answersFile, JSON.stringify(answers));
  const logFile = join(dir, 'server.log');
  const args = (port: number): string[] => [
    join(repoRoot, 'bench/baseline-server.mjs'),
    kind === 'floor' ? 'bare-parse' : 'replay',
    String(port),
    certDir,
    answersFile,
  ];
  let server: ManagedProcess | undefined;
  let port = 0;
  // A port picked free may be taken before the server binds it: try another.
  for (let attempt = 0; attempt < 3 && !server?.alive; attempt++) {
    port = await freePort();
    server = ManagedProcess.start(`bench ${kind} webhook`, process.execPath, args(port), logFile);
    await waitFor(
      `the ${kind} webhook to listen`,
      async () => {
        if (!server?.alive) return false;
        return (await readFile(logFile, 'utf8')).includes('listening') ? true : undefined;
      },
      15_000,
      50,
    );
  }
  const running = server;
  if (!running?.alive || running.child.pid === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the ${kind} webhook did not start: see ${logFile}`);
  }
  const overlay = await writeE2EOverlay(join(dir, 'overlay'), port, caBundle);
  return {
    pid: running.child.pid,
    port,
    overlay,
    stop: async () => {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
