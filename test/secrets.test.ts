// No secret reaches the log: the server runs with a pull secret configured and every log level on, and is fed
// AdmissionReviews (well-formed and not) that carry credentials the way real objects do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podReview, type AdmissionReviewBody } from './helpers/fixtures.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/hub}
  registrySources: {allowedRegistries: [mirror.corp.example]}
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
`;

// Values that must never appear in a log line, in any of the encodings they travel in.
const PASSWORD = 'Hunter2-pa55w0rd-Q7x9';
const TOKEN = 'ghp_R3gistryGateT0kenZZ91';
const AUTH = Buffer.from(`robot:${PASSWORD}`).toString('base64');
const DOCKERCONFIG = JSON.stringify({ auths: { 'mirror.corp.example': { auth: AUTH, password: PASSWORD } } });
const DOCKERCONFIG_B64 = Buffer.from(DOCKERCONFIG).toString('base64');
const TOKEN_B64 = Buffer.from(TOKEN).toString('base64');
const FORBIDDEN = [PASSWORD, TOKEN, AUTH, DOCKERCONFIG_B64, TOKEN_B64, 'robot:'];

const secretObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'corp-pull', namespace: 'team-a' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': DOCKERCONFIG_B64, token: TOKEN_B64 },
  stringData: { password: PASSWORD },
};

function secretReview(operation: string): AdmissionReviewBody {
  const body = podReview({});
  body.request.kind = { group: '', version: 'v1', kind: 'Secret' };
  body.request.resource = { group: '', version: 'v1', resource: 'secrets' };
  body.request.operation = operation;
  body.request.object = operation === 'DELETE' ? null : secretObject;
  body.request.oldObject = operation === 'CREATE' ? null : secretObject;
  body.request.uid = `secret-${operation}`;
  return body;
}

/** A Pod that carries credentials in env, annotations and a projected value, with images of every verdict. */
function podWithCredentials(image: string, uid: string): AdmissionReviewBody {
  return podReview(
    {
      containers: [
        {
          name: 'app',
          image,
          env: [
            { name: 'DB_PASSWORD', value: PASSWORD },
            { name: 'GITHUB_TOKEN', value: TOKEN },
            { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'corp-pull', key: 'token' } } },
          ],
          args: ['--password', PASSWORD],
        },
      ],
      volumes: [{ name: 'creds', secret: { secretName: 'corp-pull' } }],
    },
    {
      uid,
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(secretObject),
        'example.com/token': TOKEN,
      },
    },
  );
}

let gate: TestWebhook;
beforeAll(async () => {
  gate = await startTestWebhook(POLICY);
});
afterAll(async () => {
  await gate.stop();
});

describe('no secret in any log line', () => {
  const wellFormed: [string, unknown][] = [
    ['Secret CREATE', secretReview('CREATE')],
    ['Secret UPDATE', secretReview('UPDATE')],
    ['Secret DELETE', secretReview('DELETE')],
    [
      'Pod rewritten to the mirror, with the pull secret injected',
      podWithCredentials('nginx:1', 'pod-rewrite'),
    ],
    ['Pod denied', podWithCredentials('quay.io/org/app', 'pod-deny')],
    ['Pod with an invalid image', podWithCredentials('Nginx', 'pod-invalid')],
    ['Pod allowed as is', podWithCredentials('mirror.corp.example/hub/library/nginx', 'pod-allow')],
  ];
  const whole = JSON.stringify(podWithCredentials('nginx', 'pod-malformed'));
  const malformed: [string, string][] = [
    ['a body with the credentials where JSON breaks', `{"password": ${PASSWORD}, "token": ${TOKEN}}`],
    ['a bare credential', PASSWORD],
    ['a truncated review', whole.slice(0, whole.indexOf(PASSWORD) + 10)],
    ['trailing garbage after a review', `${whole} ${TOKEN}`],
    ['a control character next to a credential', whole.replace(PASSWORD, `${PASSWORD}\u0001`)],
    ['a wrong apiVersion', whole.replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1')],
    ['a non-string image', whole.replace('"image":"nginx"', '"image":{"password":"x"}')],
  ];

  it('logs every admission with its uid, and none of the credentials it carried', async () => {
    for (const [, body] of wellFormed) {
      for (const path of ['/mutate', '/validate']) expect((await gate.post(path, body)).status).toBe(200);
    }
    const rewritten = await gate.post('/mutate', podWithCredentials('nginx:1', 'pod-rewrite'));
    const patch = Buffer.from((rewritten.body as { response: { patch: string } }).response.patch, 'base64');
    expect(patch.toString()).toContain('corp-pull');

    for (const uid of ['pod-rewrite', 'pod-deny', 'pod-invalid', 'pod-allow', 'secret-CREATE']) {
      expect(gate.logs.some((l) => l['uid'] === uid)).toBe(true);
    }
    expect(leaks(gate.rawLogs)).toEqual([]);
  });

  it.each(malformed)(
    'answers %s with a reason that quotes none of it, and logs none of it',
    async (_name, body) => {
      const before = gate.rawLogs.length;
      for (const path of ['/mutate', '/validate']) {
        const res = await gate.post(path, body);
        expect(res.status).toBe(400);
        expect((res.body as { message: string }).message).toMatch(/./);
        expect(leaks([res.text])).toEqual([]);
      }
      expect(gate.rawLogs.length).toBeGreaterThan(before);
      expect(leaks(gate.rawLogs.slice(before))).toEqual([]);
    },
  );
});

/** Lines with a secret, or any 8 characters of one (JSON.parse errors quote about 10 characters of the body). */
function leaks(lines: readonly string[]): string[] {
  const pieces = [PASSWORD, TOKEN, AUTH].flatMap((s) =>
    Array.from({ length: s.length - 7 }, (_, i) => s.slice(i, i + 8)),
  );
  return lines.filter((line) => [...FORBIDDEN, ...pieces].some((secret) => line.includes(secret)));
}
