// Policy reload (last good policy stays), certificate rotation and graceful drain, on a real server.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDevelopmentCertificates } from '../src/certs/files.js';
import { podReview } from './helpers/fixtures.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const policy = (allowed: string) => `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  registrySources: {allowedRegistries: [${allowed}]}
`;

const until = async (check: () => Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

let gate: TestWebhook | null = null;
afterEach(async () => {
  await gate?.stop();
  gate = null;
});

const quay = podReview({ containers: [{ name: 'c', image: 'quay.io/org/app' }] });
const allowedNow = async (g: TestWebhook): Promise<boolean> =>
  ((await g.post('/validate', quay)).body as { response: { allowed: boolean } }).response.allowed;

describe('policy reload', () => {
  it('applies a valid new policy, rejects an invalid one and keeps the last good policy in force', async () => {
    const g = (gate = await startTestWebhook(policy('mine.io')));
    expect(await allowedNow(g)).toBe(false);

    // Atomic replace, as a ConfigMap volume update does.
    await writeFile(`${g.policyFile}.new`, policy('mine.io, quay.io'));
    await rename(`${g.policyFile}.new`, g.policyFile);
    await until(async () => g.webhook.store.active?.generation === 2);
    expect(await allowedNow(g)).toBe(true);

    await writeFile(g.policyFile, policy('mine.io') + '  mode: strict\n');
    await until(async () =>
      g.logs.some((l) => l['msg'] === 'policy rejected; the last good policy stays in force'),
    );
    expect(g.webhook.store.active?.generation).toBe(2);
    expect(await allowedNow(g)).toBe(true);
    const rejected = g.logs.find((l) => l['msg'] === 'policy rejected; the last good policy stays in force');
    expect(rejected?.['errors']).toEqual(['spec.mode: must be one of enforce, warn, audit, not "strict"']);
    const metrics = (await g.get('/metrics')).text;
    expect(metrics).toMatch(/registry_gate_policy_reloads_total\{result="rejected"\} 1/);
    expect(metrics).toMatch(/registry_gate_policy_last_reload_failed 1/);
    expect(metrics).toMatch(/registry_gate_policy_generation 2/);
  });

  it('refuses to start on an invalid policy, naming every error', async () => {
    await expect(startTestWebhook(policy('"https://x"') + '  mode: strict\n')).rejects.toMatchObject({
      details: [
        'spec.mode: must be one of enforce, warn, audit, not "strict"',
        'spec.registrySources.allowedRegistries[0]: "https://x": write a registry, not a URL (no scheme)',
      ],
    });
  });
});

describe('certificates', () => {
  it('serves a rotated certificate to new connections without dropping requests', async () => {
    const g = (gate = await startTestWebhook(policy('mine.io')));
    const certDir = join(g.dir, 'certs');
    const fresh = join(g.dir, 'rotated');
    await ensureDevelopmentCertificates(fresh);
    const { readFile } = await import('node:fs/promises');
    const newCa = await readFile(join(fresh, 'ca.crt'), 'utf8');
    const fingerprint = (ca: string) =>
      new Promise<string>((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: g.webhook.port, path: '/healthz', ca, agent: false },
          (res) => {
            const fp = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
            res.resume();
            res.on('end', () => resolve(fp));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const before = await fingerprint(g.ca);
    await writeFile(join(certDir, 'tls.key'), await readFile(join(fresh, 'tls.key')));
    await writeFile(join(certDir, 'tls.crt'), await readFile(join(fresh, 'tls.crt')));
    await until(async () => g.logs.some((l) => l['msg'] === 'serving certificate reloaded'));
    const after = await fingerprint(newCa);
    expect(after).not.toBe(before);
    await expect(fingerprint(g.ca)).rejects.toThrow();
  });
});

describe('graceful stop', () => {
  it('keeps answering through the shutdown delay (not ready, Connection: close), then refuses new connections', async () => {
    const g = await startTestWebhook(policy('mine.io'), { shutdownDelayMs: 300 });
    const stopped = g.webhook.stop();
    expect((await g.get('/readyz')).status).toBe(503);
    const closing = await g.post('/validate', quay);
    expect(closing.headers['connection']).toBe('close');
    const inFlight = Array.from({ length: 20 }, () => g.post('/validate', quay).then((r) => r.status));
    const statuses = await Promise.all(inFlight);
    await stopped;
    expect(statuses.every((s) => s === 200)).toBe(true);
    await expect(g.get('/healthz')).rejects.toThrow();
    gate = null;
  });
});
