// What a tenant (or anyone who reaches the port) can do to a request or a replica, over real HTTPS: input that
// reaches a recursive function, bodies that pile up in memory, answers and log lines that grow with the input,
// label values that grow the metrics, and input echoed back. Each case names the failure class it guards.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAnswer, decodePatch, podReview, type ReviewAnswer } from './helpers/fixtures.js';
import { RawRequest } from './helpers/raw-https.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: robustness}
spec:
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/hub}
  registrySources: {allowedRegistries: [mirror.corp.example]}
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
`;
const ANNOTATION = 'registry-gate.io/original-images';
const KiB = 1024;

let gate: TestWebhook;
beforeAll(async () => {
  gate = await startTestWebhook(POLICY);
});
afterAll(async () => {
  await gate.stop();
});

async function review(path: string, body: unknown): Promise<ReviewAnswer> {
  const res = await gate.post(path, body);
  expect(res.status, res.text.slice(0, 500)).toBe(200);
  return res.body as ReviewAnswer;
}

const nested = (depth: number, leaf = '"x"'): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

interface MutatedPod {
  metadata: { annotations: Record<string, string> };
  spec: { containers: { image: string }[] };
}

/** `/mutate` of a Pod running `nginx:1` whose original-images annotation is `value`; the patched Pod and answer. */
async function mutateAnnotated(
  value: string,
): Promise<{ answer: ReviewAnswer; pod: MutatedPod; body: unknown }> {
  const body = podReview(
    { containers: [{ name: 'c', image: 'nginx:1' }] },
    { annotations: { [ANNOTATION]: value } },
  );
  const answer = await review('/mutate', body);
  return { answer, pod: applyAnswer(body.request.object, answer) as unknown as MutatedPod, body };
}

describe('nothing a tenant writes reaches a recursive function unbounded', () => {
  it('a 10 KB, 5000-deep original-images annotation is replaced, with a warning, not a 500', async () => {
    const deep = `{"a":${nested(5000)}}`;
    expect(deep.length).toBeGreaterThan(10_000);
    const { answer, pod, body } = await mutateAnnotated(deep);
    expect(pod.spec.containers[0]?.image).toBe('mirror.corp.example/hub/library/nginx:1');
    expect(JSON.parse(pod.metadata.annotations[ANNOTATION] ?? '')).toEqual({ 'containers/c': 'nginx:1' });
    expect(answer.response.warnings?.join('\n')).toMatch(/original-images.*(not readable|replaced)/);
    expect((await review('/validate', body)).response.allowed).toBe(false);
  });

  it.each([
    ['not JSON', '{"a": '],
    ['a JSON list', '["docker.io/x"]'],
    ['a value that is not a string', '{"containers/c": {"image": "x"}}'],
    ['deeper than a flat map', `{"containers/c": ${nested(100_000)}}`],
    ['larger than any annotation the apiserver accepts', JSON.stringify({ k: 'x'.repeat(300 * KiB) })],
  ])('an original-images annotation that is %s is replaced, with a warning', async (_name, value) => {
    const { answer, pod } = await mutateAnnotated(value);
    expect(JSON.parse(pod.metadata.annotations[ANNOTATION] ?? '')).toEqual({ 'containers/c': 'nginx:1' });
    expect(answer.response.warnings ?? []).toHaveLength(1);
  });

  it('a readable earlier annotation is still merged, without a warning', async () => {
    const { answer, pod } = await mutateAnnotated('{"containers/sidecar":"busybox"}');
    expect(JSON.parse(pod.metadata.annotations[ANNOTATION] ?? '')).toEqual({
      'containers/sidecar': 'busybox',
      'containers/c': 'nginx:1',
    });
    expect(answer.response.warnings).toBeUndefined();
  });

  // Sent as text: JSON.stringify itself overflows on such values, which is the point.
  it.each([
    ['apiVersion', `{"apiVersion":${nested(5000)},"kind":"AdmissionReview"}`],
    ['kind', `{"apiVersion":"admission.k8s.io/v1","kind":${nested(5000)}}`],
  ])('a 5000-deep %s is a 400, not a 500', async (_field, text) => {
    const res = await gate.post('/validate', text);
    expect(res.status).toBe(400);
  });

  it('deep nesting elsewhere in the object is passed over', async () => {
    const marker = '"DEEP"';
    const text = JSON.stringify(
      podReview({ containers: [{ name: 'c', image: 'mirror.corp.example/app', env: 'DEEP' }] }),
    ).replace(marker, nested(5000, '{}'));
    const validated = await gate.post('/validate', text);
    expect(validated.status).toBe(200);
    expect((validated.body as ReviewAnswer).response.allowed).toBe(true);
    expect((await gate.post('/mutate', text)).status).toBe(200);
  });
});

describe('answers, warnings and log lines are bounded whatever the object holds', () => {
  const many = 20_000;
  const containers = Array.from({ length: many }, (_, i) => ({
    name: `c${i}`,
    image: `quay.io/team/app-${i}:1`,
  }));

  it(`denies ${many} offending containers in a bounded message that says how many were left out`, async () => {
    const res = await gate.post('/validate', podReview({ containers }));
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThan(16 * KiB);
    const answer = res.body as ReviewAnswer;
    expect(answer.response.allowed).toBe(false);
    const message = answer.response.status?.message ?? '';
    expect(message).toContain(`${many} images are not allowed`);
    expect(message).toContain('spec.containers[0] "c0"');
    expect(message).toMatch(/and \d+ more containers not shown/);
    expect(answer.response.auditAnnotations?.['violations']?.length ?? 0).toBeLessThan(4 * KiB);
  });

  it('warns in warn mode within the same bound', async () => {
    const res = await gate.post('/validate/warn', podReview({ containers }));
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThan(16 * KiB);
    expect((res.body as ReviewAnswer).response.warnings?.at(-1)).toMatch(/more warnings not shown/);
  });

  it('rewrites every container, with the annotation, audit annotation and log line bounded', async () => {
    const hub = Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: `team/app-${i}:1` }));
    const body = podReview({ containers: hub }, { uid: 'many-rewrites' });
    const answer = await review('/mutate', body);
    const ops = decodePatch(answer);
    expect(ops.filter((op) => op.op === 'replace')).toHaveLength(5000);
    const annotation = ops.find((op) => op.path.endsWith('annotations'))?.value as Record<string, string>;
    expect(annotation[ANNOTATION]?.length ?? 0).toBeLessThanOrEqual(64 * KiB);
    expect(answer.response.auditAnnotations?.['original-images']?.length ?? 0).toBeLessThanOrEqual(16 * KiB);
    expect(answer.response.warnings?.join('\n')).toMatch(/original images of \d+ containers not recorded/);
    const line = gate.rawLogs.find((l) => l.includes('"uid":"many-rewrites"')) ?? '';
    expect(line).not.toBe('');
    expect(line.length).toBeLessThan(8 * KiB);
    expect(JSON.parse(line)).toMatchObject({ rewriteCount: 5000 });
  });

  it('a huge invalid image is quoted in the denial only in part', async () => {
    const image = `Bad/${'x'.repeat(100 * KiB)}`;
    const res = await gate.post('/validate', podReview({ containers: [{ name: 'c', image }] }));
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThan(4 * KiB);
  });
});

describe('metric labels come from closed sets', () => {
  it('400 requests with made-up kinds add no label series beyond "other"', async () => {
    for (let i = 0; i < 400; i++) {
      const body = podReview({ containers: [{ name: 'c', image: 'mirror.corp.example/a' }] });
      body.request.kind = { group: `g${i}.example.com`, version: `v${i}`, kind: `MadeUp${i}` };
      const res = await gate.post(i % 2 === 0 ? '/validate' : '/mutate', body);
      expect(res.status).toBe(200);
    }
    const metrics = (await gate.get('/metrics')).text;
    expect(metrics).not.toMatch(/MadeUp/);
    expect(metrics).toMatch(/registry_gate_admission_requests_total\{[^}]*kind="other"[^}]*\} \d+/);
    const series = metrics.split('\n').filter((l) => l.startsWith('registry_gate_admission_requests_total{'));
    expect(series.length).toBeLessThan(40);
  });
});

describe('input is never echoed: a 400 names the field and what was expected, the log its size and hash', () => {
  const TOKEN = 'tok3n-z9q-secret-value';
  const valid = podReview({ containers: [{ name: 'c', image: 'mirror.corp.example/a' }] });
  const huge = 'K'.repeat(1024 * KiB);

  it.each([
    ['a 1 MiB kind', { ...valid, kind: huge }, /^kind must be AdmissionReview/],
    [
      'a token in apiVersion',
      { apiVersion: { data: { token: TOKEN } }, kind: 'AdmissionReview' },
      /^apiVersion must be admission\.k8s\.io\/v1/,
    ],
    ['a 1 MiB apiVersion', { ...valid, apiVersion: huge }, /^apiVersion must be/],
    [
      'a 1 MiB request.kind.kind',
      { ...valid, request: { ...valid.request, kind: { group: '', version: 'v1', kind: huge } } },
      /^request\.kind\.kind/,
    ],
    ['a 1 MiB request.uid', { ...valid, request: { ...valid.request, uid: huge } }, /^request\.uid/],
    ['a 1 MiB request.name', { ...valid, request: { ...valid.request, name: huge } }, /^request\.name/],
    [
      'a 1 MiB request.namespace',
      { ...valid, request: { ...valid.request, namespace: huge } },
      /^request\.namespace/,
    ],
    [
      'a token as the operation',
      { ...valid, request: { ...valid.request, operation: TOKEN } },
      /^request\.operation/,
    ],
  ])('%s', async (_name, body, reason) => {
    const text = JSON.stringify(body);
    const before = gate.rawLogs.length;
    const res = await gate.post('/validate', text);
    expect(res.status).toBe(400);
    const message = (res.body as { message?: string }).message ?? '';
    expect(message).toMatch(reason);
    expect(res.text.length).toBeLessThan(1 * KiB);
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain('KKKK');
    const lines = gate.rawLogs.slice(before);
    const logged = lines.find((l) => l.includes('"bad request"')) ?? '';
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThan(1 * KiB);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines.join('\n')).not.toContain('KKKK');
    expect(JSON.parse(logged)).toMatchObject({
      bytes: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    });
  });

  it.each([
    ['a Content-Type', { 'Content-Type': `text/${TOKEN}` }],
    ['a charset', { 'Content-Type': `application/json; charset=${TOKEN}` }],
    ['a Content-Encoding', { 'Content-Encoding': TOKEN }],
  ])('%s is not echoed', async (_name, headers) => {
    const before = gate.rawLogs.length;
    const res = await gate.post('/validate', JSON.stringify(valid)).set(headers);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.text).not.toContain(TOKEN);
    expect(gate.rawLogs.slice(before).join('\n')).not.toContain(TOKEN);
  });

  it('an unknown mode in the path is not echoed', async () => {
    const res = await gate.post(`/validate/${TOKEN}`, valid);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(TOKEN);
  });
});

describe('memory: the bytes of all bodies in flight are capped, and slow bodies are cut off', () => {
  let small: TestWebhook;
  const LIMITS = { maxBodyBytes: 512 * KiB, maxInflightBytes: 1024 * KiB, bodyTimeoutMs: 1500 };
  beforeAll(async () => {
    small = await startTestWebhook(POLICY, { limits: LIMITS });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('answers 429 at once beyond the cap, keeps ordinary reviews flowing, cuts held bodies off, and counts both', async () => {
    const held = [new RawRequest(small.url, small.ca), new RawRequest(small.url, small.ca)];
    const extra = new RawRequest(small.url, small.ca);
    const chunked = new RawRequest(small.url, small.ca);
    try {
      // Two bodies of 500 KiB each, declared and only partly sent: together they fill the 1 MiB cap.
      for (const r of held) {
        await r.head('/validate', 500 * KiB);
        await r.write('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","pad":"');
        await r.write('x'.repeat(200 * KiB));
      }
      await new Promise((r) => setTimeout(r, 200));
      await extra.head('/validate', 400 * KiB);
      await extra.write('x'.repeat(1000));
      const refused = await extra.answer(1000);
      expect(refused?.status).toBe(429);
      expect(refused?.headers['retry-after']).toBe('1');
      expect(refused?.ms ?? Infinity).toBeLessThan(1000);
      // A chunked body declares no length: it is counted as it arrives, and refused once it outgrows the cap.
      await chunked.head('/validate', null);
      const chunk = 'x'.repeat(32 * KiB);
      for (let i = 0; i < 4; i++) await chunked.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      expect((await chunked.answer(1000))?.status).toBe(429);

      // An ordinary review is small: it still gets through while the large bodies hold the cap.
      const ok = await small.post('/validate', podReview({ containers: [{ name: 'c', image: 'nginx' }] }));
      expect(ok.status).toBe(200);

      // The held bodies are cut off after the body timeout, and their bytes given back.
      const cut = await Promise.all(held.map((r) => r.answer(LIMITS.bodyTimeoutMs + 3000)));
      expect(cut.map((a) => a?.status)).toEqual([408, 408]);
      await Promise.all(held.map((r) => r.closed));
      const big = podReview({ containers: [{ name: 'c', image: 'nginx' }], pad: 'x'.repeat(450 * KiB) });
      expect((await small.post('/validate', big)).status).toBe(200);
    } finally {
      for (const r of [...held, extra, chunked]) r.destroy();
    }
    const metrics = (await small.get('/metrics')).text;
    expect(metrics).toMatch(/registry_gate_requests_shed_total\{reason="inflight_bytes"\} 2\b/);
    expect(metrics).toMatch(/registry_gate_bad_requests_total\{status="408"\} 2\b/);
    expect(metrics).toMatch(/registry_gate_inflight_body_bytes 0\b/);
  });
});

describe('a policy that restricts nothing', () => {
  it('is served, with a warning in the log and a metric', async () => {
    const open = await startTestWebhook('apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\n');
    try {
      expect(
        open.logs.find((l) => l['level'] === 40 && /restricts nothing/.test(String(l['msg']))),
      ).toBeDefined();
      expect((await open.get('/metrics')).text).toMatch(/registry_gate_policy_unrestricted 1\b/);
    } finally {
      await open.stop();
    }
  });

  it('is refused by --require-restriction, at start and on reload', async () => {
    await expect(
      startTestWebhook('apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec: {}\n', {
        requireRestriction: true,
      }),
    ).rejects.toThrow(/invalid policy/);
    const strict = await startTestWebhook(POLICY, { requireRestriction: true });
    try {
      expect((await strict.get('/metrics')).text).toMatch(/registry_gate_policy_unrestricted 0\b/);
    } finally {
      await strict.stop();
    }
  });
});
