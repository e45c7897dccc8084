// Pull-secret propagation that cannot start (here: a server started without API access) is reported on /readyz
// and in the log without making the server unready, and is tried again when a later policy still asks for it.
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const policy = (registry: string): string => `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: propagation}
spec:
  pullSecrets:
    - registry: ${registry}
      secretName: mycorp-pull
      from: {namespace: registry-gate-system, name: mycorp-pull}
`;
const PROBLEM = 'the policy names pull-secret sources but this server was started without API access';

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('pull-secret propagation that cannot start', () => {
  let server: TestWebhook | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('is named on /readyz, logged, and retried by the next policy that asks; the server stays ready', async () => {
    server = await startTestWebhook(policy('registry.mycorp.com'));
    const s = server;
    const problems = (): number => s.logs.filter((l) => l.msg === PROBLEM).length;
    await until('the first problem line', () => (problems() === 1 ? true : undefined));

    const ready = await s.get('/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body as { checks: Record<string, string> }).checks.pullSecrets).toBe(PROBLEM);

    await writeFile(s.policyFile, policy('registry.other.example'));
    await until('the retry after the reload', () => (problems() === 2 ? true : undefined));
  });
});
