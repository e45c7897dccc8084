import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIRROR_OPTIONS } from '../../src/runtime/mirror-verification.js';
import { decodePatch, podReview, type AdmissionReviewBody, type ReviewAnswer } from '../helpers/fixtures.js';
import { freePort, startDelayProxy } from '../helpers/registry-faults.js';
import { labTools, startRegistryLab, type RegistryLab } from '../helpers/registry-lab.js';
import { startTestWebhook, type TestWebhook } from '../helpers/webhook.js';

const tools = await labTools();
if (typeof tools === 'string') console.warn(`mirror-aware admission tests skipped: ${tools}`);

const BUDGET_MS = 600;

describe.skipIf(typeof tools === 'string')('admission asks the mirror (real registries)', () => {
  let lab: RegistryLab;
  let gate: TestWebhook;
  let B: string;
  let T: string;
  let gone: string;
  let hole: Awaited<ReturnType<typeof startDelayProxy>>;

  beforeAll(async () => {
    if (typeof tools === 'string') return;
    lab = await startRegistryLab(tools);
    B = lab.basic.host;
    T = lab.token.host;
    gone = `127.0.0.1:${await freePort()}`;
    hole = await startDelayProxy(lab.basic.port, Infinity);
    await lab.writePullSecret('robot');
    gate = await startTestWebhook(
      `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mode: enforce
  mirrors:
    - {source: docker.io, mirror: ${B}, verify: enforce, pin: digest}
    - {source: quay.io, mirror: ${T}, verify: warn}
    - {source: ghcr.io, mirror: ${gone}/ghcr, verify: warn}
    - {source: gcr.io, mirror: ${gone}/gcr, verify: warn, onError: deny}
    - {source: registry.k8s.io, mirror: ${hole.host}/k8s, verify: warn}
  pullSecrets:
    - {registry: ${B}, secretName: robot}
    - {registry: ${T}, secretName: robot}
`,
      {
        mirrors: {
          ...DEFAULT_MIRROR_OPTIONS,
          pullSecretsDir: lab.pullSecretsDir,
          caFile: lab.pki.caFile,
          budgetMs: BUDGET_MS,
          requestTimeoutMs: BUDGET_MS,
          healthIntervalMs: 60_000,
        },
      },
    );
  }, 900_000);
  afterAll(async () => {
    await gate?.stop();
    await hole?.stop();
    await lab?.stop();
  });

  const review = async (path: string, body: AdmissionReviewBody): Promise<ReviewAnswer['response']> => {
    const res = await gate.post(path, body);
    expect(res.status).toBe(200);
    return (res.body as ReviewAnswer).response;
  };
  const pod = (...images: string[]) =>
    podReview({ containers: images.map((image, i) => ({ name: `c${i}`, image })) });
  const patchedImages = (response: ReviewAnswer['response']): unknown[] =>
    decodePatch({ apiVersion: '', kind: '', response })
      .filter((op) => op.op === 'replace')
      .map((op) => op.value);

  it('pin: digest: the mutating webhook writes the digest the mirror serves, the validating one allows it', async () => {
    const mutated = await review('/mutate', pod('app/one:1.0', 'docker.io/app/multi:1.0'));
    expect(patchedImages(mutated)).toEqual([
      `${B}/app/one:1.0@${lab.images.one}`,
      `${B}/app/multi:1.0@${lab.images.multi}`,
    ]);
    const validated = await review('/validate', pod(`${B}/app/one:1.0@${lab.images.one}`));
    expect(validated).toEqual({ uid: 'pod-uid-1', allowed: true });
  });

  it('an image already pinned is kept and not patched again', async () => {
    const mutated = await review('/mutate', pod(`${B}/app/one:1.0@${lab.images.one}`));
    expect(patchedImages(mutated)).toEqual([]);
  });

  it('verify: enforce: an image the mirror does not have is denied NOT_IN_MIRROR, with the command that mirrors it', async () => {
    const validated = await review('/validate', pod(`${B}/app/nope:1.0`));
    expect(validated.allowed).toBe(false);
    expect(validated.auditAnnotations).toEqual({ violations: 'NOT_IN_MIRROR' });
    expect(validated.status?.message).toContain(
      `skopeo copy --all docker://docker.io/app/nope:1.0 docker://${B}/app/nope:1.0`,
    );
    expect(validated.status?.message).toContain(`oc image mirror docker.io/app/nope:1.0 ${B}/app/nope:1.0`);
    // The mutating webhook rewrites it (unpinned: nothing to pin) and leaves judging to the validating one.
    const mutated = await review('/mutate', pod('app/nope:1.0'));
    expect(patchedImages(mutated)).toEqual([`${B}/app/nope:1.0`]);
    expect(mutated.warnings).toBeUndefined();
  });

  it('a namespace in warn mode gets the denial as a warning (the mode applies to mirror verdicts too)', async () => {
    const validated = await review('/validate/warn', pod(`${B}/app/nope:1.0`));
    expect(validated.allowed).toBe(true);
    expect(validated.warnings?.[0]).toMatch(/^registry-gate \(warn mode\) would deny: .* is not in mirror /);
  });

  it('verify: warn: a missing image is admitted with warnings naming the mirror reference and the skopeo command (token auth)', async () => {
    const validated = await review('/validate', pod(`${T}/app/nope:2`, `${T}/app/two:1.0`));
    expect(validated.allowed).toBe(true);
    expect(validated.warnings).toEqual([
      `registry-gate: ${T}/app/nope:2 is not in mirror ${T} (not in the mirror (HTTP 404)); pulls will fail until it is mirrored`,
      `registry-gate: to mirror it: skopeo copy --all docker://quay.io/app/nope:2 docker://${T}/app/nope:2`,
    ]);
  });

  it('a template is judged as its Pods will be: the rewritten image is asked', async () => {
    const body = pod();
    body.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
    body.request.object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'app/missing:3' }] } } },
    };
    const validated = await review('/validate', body);
    expect(validated.allowed).toBe(false);
    expect(validated.status?.message).toContain(
      `image "app/missing:3" resolves to ${B}/app/missing:3, which is not in mirror ${B}`,
    );
  });

  it('a mirror that cannot be reached: onError allow admits with the reason, onError deny denies MIRROR_UNREACHABLE', async () => {
    const allowed = await review('/validate', pod(`${gone}/ghcr/x:1`));
    expect(allowed.allowed).toBe(true);
    expect(allowed.warnings?.[0]).toMatch(
      new RegExp(
        `^registry-gate: could not ask mirror ${gone}/ghcr about ${gone}/ghcr/x:1 \\(.*ECONNREFUSED.*\\); admitted \\(onError: allow\\)$`,
      ),
    );
    const denied = await review('/validate', pod(`${gone}/gcr/x:1`));
    expect(denied.allowed).toBe(false);
    expect(denied.auditAnnotations).toEqual({ violations: 'MIRROR_UNREACHABLE' });
  });

  it('a mirror that never answers costs the review its budget, not the webhook timeout', async () => {
    const images = Array.from({ length: 12 }, (_, i) => `${hole.host}/k8s/img${i}:1`);
    const started = Date.now();
    const validated = await review('/validate', pod(...images));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(BUDGET_MS - 20);
    expect(elapsed).toBeLessThan(BUDGET_MS + 700);
    expect(validated.allowed).toBe(true);
    expect(validated.warnings).toHaveLength(12);
  });

  it('dry-run gets the same answer', async () => {
    const body = pod(`${B}/app/nope:1.0`, 'app/one:1.0');
    const wet = await review('/validate', body);
    body.request.dryRun = true;
    expect(await review('/validate', body)).toEqual(wet);
    const wetMutation = await review('/mutate', { ...body, request: { ...body.request, dryRun: false } });
    expect(await review('/mutate', body)).toEqual(wetMutation);
  });

  it('answers are cached across reviews; look-ups, cache hits and latency are counted per mirror', async () => {
    await review('/validate', pod(`${B}/app/two:1.0`));
    await review('/validate', pod(`${B}/app/two:1.0`));
    const metrics = (await gate.get('/metrics')).text;
    expect(metrics).toMatch(
      new RegExp(`registry_gate_mirror_lookups_total\\{mirror="${B}",result="found"\\} \\d+`),
    );
    expect(metrics).toMatch(
      new RegExp(`registry_gate_mirror_lookups_total\\{mirror="${B}",result="missing"\\} \\d+`),
    );
    expect(metrics).toMatch(
      new RegExp(`registry_gate_mirror_lookups_total\\{mirror="${gone}/gcr",result="error"\\} \\d+`),
    );
    expect(metrics).toMatch(new RegExp(`registry_gate_mirror_cache_hits_total\\{mirror="${B}"\\} [1-9]`));
    expect(metrics).toContain(`registry_gate_mirror_lookup_duration_seconds_count{mirror="${B}"}`);
  });
});
