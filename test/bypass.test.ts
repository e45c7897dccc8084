// Attempts to get an image past the gate, over real HTTPS with AdmissionReview bodies as the apiserver sends them.
// Every case goes through both webhooks: the validator judges the Pod as written; the mutator's patch must apply
// under strict RFC 6902, the patched Pod must then be judged as the table says, and a second pass must patch nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admissionFixture,
  applyAnswer,
  decodePatch,
  podReview,
  type AdmissionReviewBody,
  type ReviewAnswer,
} from './helpers/fixtures.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const ALLOW_POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: bypass-allow}
spec:
  mode: enforce
  shortNames: {aliases: {tools: quay.io/org/tools}}
  mirrors:
    - {source: docker.io, mirror: registry.mycorp.com/dockerhub}
  registrySources:
    allowedRegistries:
      - registry.mycorp.com
      - quay.io/org
      - "*.corp.example.com"
      - "[::1]:5000"
      - "10.0.0.5:5000"
      - reg1.io/myrepo/myapp:latest
  pullSecrets:
    - {registry: registry.mycorp.com, secretName: mycorp-pull}
`;

const BLOCK_POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: bypass-block}
spec:
  mode: enforce
  registrySources:
    blockedRegistries: [docker.io, quay.io/evil, "[::1]:5000", "[fd00::5]", "10.0.0.9", "*.bad.example", "reg1.io/app:latest"]
`;

const DIGEST = `sha256:${'a'.repeat(64)}`;
const MIRRORED = 'registry.mycorp.com/dockerhub';

let allow: TestWebhook;
let block: TestWebhook;
beforeAll(async () => {
  [allow, block] = await Promise.all([startTestWebhook(ALLOW_POLICY), startTestWebhook(BLOCK_POLICY)]);
});
afterAll(async () => {
  await Promise.all([allow.stop(), block.stop()]);
});

async function review(gate: TestWebhook, path: string, body: unknown): Promise<ReviewAnswer> {
  const res = await gate.post(path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as ReviewAnswer;
}

/** `allow`, or the violation codes of a denial. */
function verdict(answer: ReviewAnswer): string {
  if (answer.response.allowed) return 'allow';
  return answer.response.auditAnnotations?.['violations'] ?? '(denied without a code)';
}

type Verdict = 'allow' | 'REGISTRY_NOT_ALLOWED' | 'REGISTRY_BLOCKED' | 'INVALID_IMAGE_REF';

/**
 * Runs one image through the gate as a Pod's only container: the validator's verdict on it as written, then the
 * mutator's patch applied, the verdict on the patched Pod, and a reinvocation that must change nothing more.
 */
async function judge(
  gate: TestWebhook,
  image: string,
): Promise<{ asWritten: string; mutatedImage: string; afterMutation: string }> {
  const body = podReview({ containers: [{ name: 'c', image }] });
  const asWritten = verdict(await review(gate, '/validate', body));
  const mutated = await review(gate, '/mutate', body);
  const pod = applyAnswer(body.request.object, mutated) as { spec: { containers: { image: string }[] } };
  const again: AdmissionReviewBody = structuredClone(body);
  again.request.object = pod as unknown as Record<string, unknown>;
  const afterMutation = verdict(await review(gate, '/validate', again));
  const second = await review(gate, '/mutate', again);
  expect(decodePatch(second), 'a second mutation pass patches nothing').toEqual([]);
  return { asWritten, mutatedImage: pod.spec.containers[0]?.image ?? '', afterMutation };
}

describe('allow-list bypass attempts', () => {
  // [name, image, verdict as written, image after the mutator (omitted: unchanged)]
  const cases: [string, string, Verdict, string?][] = [
    ['the allowed registry', 'registry.mycorp.com/app:1', 'allow'],
    [
      'look-alike host: allowed name as a subdomain',
      'registry.mycorp.com.evil.io/app',
      'REGISTRY_NOT_ALLOWED',
    ],
    ['look-alike host: one more letter', 'registry.mycorp.comx/app', 'REGISTRY_NOT_ALLOWED'],
    ['look-alike host: prefix glued on', 'evilregistry.mycorp.com/app', 'REGISTRY_NOT_ALLOWED'],
    ['look-alike host: allowed name as a path', 'evil.io/registry.mycorp.com/app', 'REGISTRY_NOT_ALLOWED'],
    ['look-alike host: userinfo', 'registry.mycorp.com@evil.io/app', 'INVALID_IMAGE_REF'],
    ['URL scheme', 'https://registry.mycorp.com/app', 'INVALID_IMAGE_REF'],
    ['case: upper-case host is the same host', 'REGISTRY.MYCORP.COM/app:1', 'allow'],
    ['case: upper-case path is invalid', 'registry.mycorp.com/App', 'INVALID_IMAGE_REF'],
    ['port: any port of a portless entry', 'registry.mycorp.com:443/app', 'allow'],
    ['port: another port of a portless entry', 'registry.mycorp.com:5000/app', 'allow'],
    ['path: inside the allowed namespace', 'quay.io/org/app:1', 'allow'],
    ['path: the namespace itself', 'quay.io/org', 'allow'],
    ['path: look-alike namespace', 'quay.io/orgx/app', 'REGISTRY_NOT_ALLOWED'],
    ['path: longer look-alike namespace', 'quay.io/organisation/app', 'REGISTRY_NOT_ALLOWED'],
    ['path: another namespace on the host', 'quay.io/other/app', 'REGISTRY_NOT_ALLOWED'],
    ['path: host upper-case, namespace kept', 'QUAY.IO/org/app', 'allow'],
    ['path: port on a path entry', 'quay.io:443/org/app', 'allow'],
    ['path: dot-dot', 'quay.io/org/../evil/app', 'INVALID_IMAGE_REF'],
    ['path: empty component', 'quay.io//org/app', 'INVALID_IMAGE_REF'],
    ['path: encoded slash', 'quay.io/org%2f..%2fevil/app', 'INVALID_IMAGE_REF'],
    ['wildcard: a subdomain', 'a.corp.example.com/x', 'allow'],
    ['wildcard: a deeper subdomain with a port', 'a.b.corp.example.com:5000/x', 'allow'],
    ['wildcard: not the apex', 'corp.example.com/x', 'REGISTRY_NOT_ALLOWED'],
    ['wildcard: glued prefix', 'evilcorp.example.com/x', 'REGISTRY_NOT_ALLOWED'],
    ['wildcard: as a subdomain of another', 'a.corp.example.com.evil.io/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: the allowed host and port', '[::1]:5000/x', 'allow'],
    ['IPv6: the same address written out', '[0:0:0:0:0:0:0:1]:5000/x', 'allow'],
    ['IPv6: the IPv4-mapped form of an allowed IPv4 host', '[::ffff:a00:5]:5000/x', 'allow'],
    ['IPv6: the allowed port with leading zeros', '[::1]:05000/x', 'allow'],
    ['IPv6: written out, port with leading zeros', '[0:0:0:0:0:0:0:1]:0005000/x', 'allow'],
    ['IPv6: another port', '[::1]:5001/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: another port with leading zeros', '[::1]:050000/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: no port', '[::1]/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: another address', '[::2]:5000/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: not an address', '[::1::1]:5000/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv6: zone', '[fe80::1%eth0]:5000/x', 'INVALID_IMAGE_REF'],
    ['IPv4: the allowed host and port', '10.0.0.5:5000/x', 'allow'],
    ['IPv4: no port', '10.0.0.5/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv4: the allowed port with leading zeros', '10.0.0.5:05000/x', 'allow'],
    ['IPv4: another port', '10.0.0.5:5001/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv4: leading zeros are another name', '010.0.0.5:5000/x', 'REGISTRY_NOT_ALLOWED'],
    ['IPv4: as a decimal number', '167772165:5000/x', 'REGISTRY_NOT_ALLOWED'],
    ['pinned tag: that tag', 'reg1.io/myrepo/myapp:latest', 'allow'],
    ['pinned tag: untagged is :latest', 'reg1.io/myrepo/myapp', 'allow'],
    ['pinned tag: another tag', 'reg1.io/myrepo/myapp:v2', 'REGISTRY_NOT_ALLOWED'],
    ['pinned tag: a digest', `reg1.io/myrepo/myapp@${DIGEST}`, 'REGISTRY_NOT_ALLOWED'],
    [
      'pinned tag: tag plus digest pulls the digest',
      `reg1.io/myrepo/myapp:latest@${DIGEST}`,
      'REGISTRY_NOT_ALLOWED',
    ],
    ['pinned tag: a sibling repository', 'reg1.io/myrepo/myapp2:latest', 'REGISTRY_NOT_ALLOWED'],
    ['pinned tag: a nested repository', 'reg1.io/myrepo/myapp/x:latest', 'REGISTRY_NOT_ALLOWED'],
    ['tag and digest on an allowed host', `registry.mycorp.com/app:1@${DIGEST}`, 'allow'],
    ['tag and digest on another host', `evil.io/app:1@${DIGEST}`, 'REGISTRY_NOT_ALLOWED'],
    ['short name', 'nginx', 'REGISTRY_NOT_ALLOWED', `${MIRRORED}/library/nginx`],
    [
      'short name with tag and digest',
      `nginx:1@${DIGEST}`,
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx:1@${DIGEST}`,
    ],
    ['library/ form', 'library/nginx:1', 'REGISTRY_NOT_ALLOWED', `${MIRRORED}/library/nginx:1`],
    ['short name with a namespace', 'bitnami/redis', 'REGISTRY_NOT_ALLOWED', `${MIRRORED}/bitnami/redis`],
    // As written the node pulls docker.io/library/tools; only the mutator's rewrite makes it the alias.
    ['short-name alias', 'tools:1', 'REGISTRY_NOT_ALLOWED', 'quay.io/org/tools:1'],
    ['Docker Hub: docker.io', 'docker.io/library/nginx', 'REGISTRY_NOT_ALLOWED', `${MIRRORED}/library/nginx`],
    [
      'Docker Hub: docker.io, no library/',
      'docker.io/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    [
      'Docker Hub: index.docker.io',
      'index.docker.io/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    [
      'Docker Hub: registry-1.docker.io',
      'registry-1.docker.io/library/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    [
      'Docker Hub: registry.hub.docker.com',
      'registry.hub.docker.com/library/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    [
      'Docker Hub: upper case',
      'DOCKER.IO/library/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    [
      'Docker Hub: explicit port',
      'docker.io:443/library/nginx',
      'REGISTRY_NOT_ALLOWED',
      `${MIRRORED}/library/nginx`,
    ],
    ['localhost', 'localhost/x', 'REGISTRY_NOT_ALLOWED'],
    ['localhost with a port', 'localhost:5000/x', 'REGISTRY_NOT_ALLOWED'],
    ['empty image', '', 'INVALID_IMAGE_REF'],
    ['leading space', ' registry.mycorp.com/app', 'INVALID_IMAGE_REF'],
    ['trailing space', 'registry.mycorp.com/app ', 'INVALID_IMAGE_REF'],
    ['trailing newline', 'registry.mycorp.com/app\n', 'INVALID_IMAGE_REF'],
    ['NUL byte', 'registry.mycorp.com/app\u0000evil.io/x', 'INVALID_IMAGE_REF'],
    ['trailing dot of a fully qualified name', 'registry.mycorp.com./app', 'INVALID_IMAGE_REF'],
    // Unicode look-alikes must be invalid references, never matched after some folding.
    ['unicode: Greek omicron in the host', 'registry.mycorp.c\u03bfm/app', 'INVALID_IMAGE_REF'],
    ['unicode: Cyrillic y in the host', 'registr\u0443.mycorp.com/app', 'INVALID_IMAGE_REF'],
    ['unicode: full-width letters', '\uff52egistry.mycorp.com/app', 'INVALID_IMAGE_REF'],
    ['unicode: division slash', 'registry.mycorp.com\u2215app', 'INVALID_IMAGE_REF'],
    ['unicode: zero-width space', 'registry.mycorp.com\u200b/app', 'INVALID_IMAGE_REF'],
    ['unicode: dotless i upper-cases to I', 'quay.\u0131o/org/app', 'INVALID_IMAGE_REF'],
    ['unicode: Kelvin sign lower-cases to k', 'registry.mycorp.com/\u212aapp', 'INVALID_IMAGE_REF'],
    ['unicode: right-to-left override', 'registry.mycorp.com/\u202eppa', 'INVALID_IMAGE_REF'],
    ['punycode is just another host', 'xn--registry-mycorp-com-xyz.evil/app', 'REGISTRY_NOT_ALLOWED'],
  ];

  it.each(cases)('%s: %j', async (_name, image, expected, rewrittenTo) => {
    const { asWritten, mutatedImage, afterMutation } = await judge(allow, image);
    expect(asWritten).toBe(expected);
    expect(mutatedImage).toBe(rewrittenTo ?? image);
    // A rewrite lands on the allowed mirror; anything else keeps the verdict it had.
    expect(afterMutation).toBe(rewrittenTo === undefined ? expected : 'allow');
  });
});

describe('block-list bypass attempts', () => {
  const cases: [string, string, Verdict][] = [
    ['Docker Hub short name', 'nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub library/ form', 'library/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: index.docker.io', 'index.docker.io/library/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: registry-1.docker.io', 'registry-1.docker.io/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: registry.hub.docker.com', 'registry.hub.docker.com/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: upper case', 'Docker.IO/library/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: a port', 'docker.io:443/library/nginx', 'REGISTRY_BLOCKED'],
    ['Docker Hub: alias with a port, upper case', 'REGISTRY-1.DOCKER.IO:443/x/y', 'REGISTRY_BLOCKED'],
    ['Docker Hub: tag and digest', `nginx:1@${DIGEST}`, 'REGISTRY_BLOCKED'],
    ['a look-alike of a blocked host is not blocked', 'docker.io.example.com/x', 'allow'],
    ['blocked namespace', 'quay.io/evil/app', 'REGISTRY_BLOCKED'],
    ['blocked namespace, upper-case host and a port', 'QUAY.IO:443/evil/app', 'REGISTRY_BLOCKED'],
    ['next to the blocked namespace', 'quay.io/evilx/app', 'allow'],
    ['blocked IPv6 host and port', '[::1]:5000/x', 'REGISTRY_BLOCKED'],
    ['blocked IPv6 address written out', '[0:0:0:0:0:0:0:1]:5000/x', 'REGISTRY_BLOCKED'],
    ['blocked IPv6 address, leading zeros', '[0::0001]:5000/x', 'REGISTRY_BLOCKED'],
    ['blocked IPv6 address, upper case', '[FD00::5]/x', 'REGISTRY_BLOCKED'],
    ['blocked IPv6 address, written out with a port', '[fd00:0:0:0:0:0:0:5]:443/x', 'REGISTRY_BLOCKED'],
    ['another IPv6 port is not blocked', '[::1]:5001/x', 'allow'],
    ['blocked IPv4 host in its IPv4-mapped IPv6 form', '[::ffff:a00:9]/x', 'REGISTRY_BLOCKED'],
    ['blocked tag', 'reg1.io/app:latest', 'REGISTRY_BLOCKED'],
    ['blocked tag with a digest glued on', `reg1.io/app:latest@${DIGEST}`, 'REGISTRY_BLOCKED'],
    ['blocked tag: the untagged form pulls it', 'reg1.io/app', 'REGISTRY_BLOCKED'],
    ['blocked wildcard', 'a.bad.example/x', 'REGISTRY_BLOCKED'],
    ['blocked wildcard, upper case and a port', 'A.BAD.EXAMPLE:5000/x', 'REGISTRY_BLOCKED'],
    ['unicode look-alike of a blocked host', 'd\u043ecker.io/x', 'INVALID_IMAGE_REF'],
  ];
  it.each(cases)('%s: %j', async (_name, image, expected) => {
    const { asWritten, mutatedImage, afterMutation } = await judge(block, image);
    expect(asWritten).toBe(expected);
    expect(mutatedImage).toBe(image);
    expect(afterMutation).toBe(expected);
  });
});

/**
 * Ports are numbers to a runtime (`evil.io:05000` is dialled on port 5000), an image without a port is dialled on
 * 443 (or 80 over plain HTTP), and Docker Hub has several names: a block entry must catch every one of them, an
 * allow entry must not be widened by them. One gate per policy, each image through both webhooks.
 */
describe('ports as numbers, default ports, and Docker Hub names under wildcards', () => {
  const policies = {
    blockPorts: `blockedRegistries: ["evil.io:5000", "[::1]:5000", "10.0.0.9:5000", "ghcr.io:443", "plain.io:80", "quay.io:0443/org"]`,
    blockDockerIo: `blockedRegistries: ["*.docker.io"]`,
    blockDockerCom: `blockedRegistries: ["*.docker.com"]`,
    allowWild: `allowedRegistries: ["*.docker.io", "*.docker.com", "ghcr.io:443", "[::1]:5000"]`,
  } as const;
  type Name = keyof typeof policies;
  const gates = new Map<Name, TestWebhook>();
  beforeAll(async () => {
    await Promise.all(
      (Object.keys(policies) as Name[]).map(async (name) => {
        const yaml = `apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nmetadata: {name: ${name.toLowerCase()}}\nspec:\n  registrySources: {${policies[name]}}\n`;
        gates.set(name, await startTestWebhook(yaml));
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([...gates.values()].map((g) => g.stop()));
  });

  const cases: [Name, string, string, Verdict][] = [
    ['blockPorts', 'the blocked port', 'evil.io:5000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'the blocked port with a leading zero', 'evil.io:05000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'the blocked port with many leading zeros', 'evil.io:0000005000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'upper case and a padded port', 'EVIL.IO:05000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a port that only shares digits', 'evil.io:50000/x', 'allow'],
    ['blockPorts', 'no port: pulled from 443, not 5000', 'evil.io/x', 'allow'],
    ['blockPorts', 'IPv6 with a padded port', '[::1]:05000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'IPv6 written out with a padded port', '[0:0:0:0:0:0:0:1]:005000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'IPv4-mapped IPv6 with a padded port', '[::ffff:a00:9]:05000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'IPv4 with a padded port', '10.0.0.9:05000/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :443 covers the portless name', 'ghcr.io/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :443, written with :443', 'ghcr.io:443/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :443, written with :0443', 'ghcr.io:0443/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :443, upper case', 'GHCR.IO/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :443 leaves other ports', 'ghcr.io:5000/org/app', 'allow'],
    ['blockPorts', 'a block on :80 covers the portless name', 'plain.io/x', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a block on :80 leaves other ports', 'plain.io:8080/x', 'allow'],
    ['blockPorts', 'a padded port in the entry, a path entry', 'quay.io/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a padded port in the entry, written :443', 'quay.io:443/org/app', 'REGISTRY_BLOCKED'],
    ['blockPorts', 'a padded port in the entry, another path', 'quay.io/other/app', 'allow'],
    ['blockDockerIo', 'registry-1.docker.io', 'registry-1.docker.io/library/nginx', 'REGISTRY_BLOCKED'],
    ['blockDockerIo', 'index.docker.io', 'index.docker.io/library/nginx', 'REGISTRY_BLOCKED'],
    [
      'blockDockerIo',
      'registry.hub.docker.com is Docker Hub too',
      'registry.hub.docker.com/x/y',
      'REGISTRY_BLOCKED',
    ],
    [
      'blockDockerIo',
      'docker.io: dialled as registry-1.docker.io',
      'docker.io/library/nginx',
      'REGISTRY_BLOCKED',
    ],
    ['blockDockerIo', 'a short name is Docker Hub', 'nginx:1', 'REGISTRY_BLOCKED'],
    ['blockDockerIo', 'upper case with a port', 'REGISTRY-1.DOCKER.IO:443/x/y', 'REGISTRY_BLOCKED'],
    ['blockDockerIo', 'any other subdomain', 'a.docker.io/x', 'REGISTRY_BLOCKED'],
    ['blockDockerIo', 'a look-alike', 'docker.io.example.com/x', 'allow'],
    ['blockDockerIo', 'another registry', 'quay.io/x', 'allow'],
    [
      'blockDockerCom',
      'registry.hub.docker.com',
      'registry.hub.docker.com/library/nginx',
      'REGISTRY_BLOCKED',
    ],
    [
      'blockDockerCom',
      'registry-1.docker.io is the same registry',
      'registry-1.docker.io/x/y',
      'REGISTRY_BLOCKED',
    ],
    ['blockDockerCom', 'a short name is Docker Hub', 'library/nginx', 'REGISTRY_BLOCKED'],
    ['blockDockerCom', 'a subdomain that is not Docker Hub', 'hub.docker.com/x', 'REGISTRY_BLOCKED'],
    ['blockDockerCom', 'not the apex', 'docker.com/x', 'allow'],
    ['allowWild', 'a wildcard does not allow Docker Hub by its folded name', 'nginx', 'REGISTRY_NOT_ALLOWED'],
    [
      'allowWild',
      'nor by another of its names',
      'registry-1.docker.io/library/nginx',
      'REGISTRY_NOT_ALLOWED',
    ],
    [
      'allowWild',
      'nor as registry.hub.docker.com',
      'registry.hub.docker.com/library/nginx',
      'REGISTRY_NOT_ALLOWED',
    ],
    ['allowWild', 'a subdomain that is not Docker Hub', 'a.docker.io/x', 'allow'],
    ['allowWild', 'an allow on :443, written :443', 'ghcr.io:443/x', 'allow'],
    ['allowWild', 'an allow on :443, written :00443', 'ghcr.io:00443/x', 'allow'],
    [
      'allowWild',
      'an allow on :443 does not cover the portless name (80 over plain HTTP)',
      'ghcr.io/x',
      'REGISTRY_NOT_ALLOWED',
    ],
    ['allowWild', 'an allowed IPv6 port, padded', '[::1]:0005000/x', 'allow'],
  ];
  it.each(cases)('%s: %s: %j', async (name, _what, image, expected) => {
    const gate = gates.get(name);
    if (gate === undefined) throw new Error(`no gate ${name}`);
    const { asWritten, mutatedImage, afterMutation } = await judge(gate, image);
    expect(asWritten).toBe(expected);
    expect(mutatedImage).toBe(image);
    expect(afterMutation).toBe(expected);
  });
});

describe('images hidden elsewhere in the object', () => {
  const BAD = 'quay.io/attacker/miner:1';
  const OK = 'registry.mycorp.com/app:1';

  it.each([
    [
      'initContainers',
      { initContainers: [{ name: 'x', image: BAD }], containers: [{ name: 'c', image: OK }] },
    ],
    [
      'a restartable init container (sidecar)',
      {
        initContainers: [{ name: 'x', image: BAD, restartPolicy: 'Always' }],
        containers: [{ name: 'c', image: OK }],
      },
    ],
    [
      'ephemeralContainers on CREATE',
      { containers: [{ name: 'c', image: OK }], ephemeralContainers: [{ name: 'x', image: BAD }] },
    ],
    [
      'an image volume',
      { containers: [{ name: 'c', image: OK }], volumes: [{ name: 'x', image: { reference: BAD } }] },
    ],
    [
      'the last of many containers',
      {
        containers: [
          ...Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, image: OK })),
          { name: 'x', image: BAD },
        ],
      },
    ],
  ])('a Pod with a bad image in %s is denied', async (_name, spec) => {
    const answer = await review(allow, '/validate', podReview(spec));
    expect(verdict(answer)).toBe('REGISTRY_NOT_ALLOWED');
    expect(answer.response.status?.message).toContain(`"x": image "${BAD}"`);
  });

  it('an ephemeral container added through the subresource is judged, an allowed one passes', async () => {
    const body = admissionFixture('pod-ephemeralcontainers-update.json');
    const spec = body.request.object?.['spec'] as { ephemeralContainers: { image: string }[] };
    spec.ephemeralContainers[0] = { ...spec.ephemeralContainers[0], image: BAD };
    expect(verdict(await review(allow, '/validate', body))).toBe('REGISTRY_NOT_ALLOWED');
    spec.ephemeralContainers[0] = { ...spec.ephemeralContainers[0], image: OK };
    expect(verdict(await review(allow, '/validate', body))).toBe('allow');
  });

  const templates: [string, string, string[]][] = [
    ['', 'PodTemplate', ['template', 'spec']],
    ['', 'ReplicationController', ['spec', 'template', 'spec']],
    ['apps', 'Deployment', ['spec', 'template', 'spec']],
    ['apps', 'ReplicaSet', ['spec', 'template', 'spec']],
    ['apps', 'StatefulSet', ['spec', 'template', 'spec']],
    ['apps', 'DaemonSet', ['spec', 'template', 'spec']],
    ['batch', 'Job', ['spec', 'template', 'spec']],
    ['batch', 'CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  ];
  const hiding: [string, Record<string, unknown>][] = [
    [
      'initContainers',
      { initContainers: [{ name: 'x', image: BAD }], containers: [{ name: 'c', image: OK }] },
    ],
    [
      'volumes',
      { containers: [{ name: 'c', image: OK }], volumes: [{ name: 'x', image: { reference: BAD } }] },
    ],
    ['a look-alike host', { containers: [{ name: 'x', image: 'registry.mycorp.com.evil.io/busybox' }] }],
  ];
  it.each(templates.flatMap(([g, k, p]) => hiding.map(([where, spec]) => [g, k, p, where, spec] as const)))(
    '%s/%s: a bad image in %j of the pod template is denied',
    async (group, kind, specPath, _where, spec) => {
      const object: Record<string, unknown> = { apiVersion: 'x', kind, metadata: { name: 'w' } };
      let node = object;
      for (const key of specPath.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[specPath[specPath.length - 1] ?? 'spec'] = spec;
      const body = podReview({});
      body.request.kind = { group, version: 'v1', kind };
      body.request.object = object;
      const answer = await review(allow, '/validate', body);
      expect(verdict(answer)).toBe('REGISTRY_NOT_ALLOWED');
      expect(answer.response.status?.message).toContain(`${specPath.join('.')}.`);
    },
  );
});

describe('UPDATEs that swap an image in', () => {
  const OK = 'registry.mycorp.com/app:1';
  const update = (
    oldSpec: Record<string, unknown>,
    newSpec: Record<string, unknown>,
  ): AdmissionReviewBody => {
    const body = podReview(newSpec);
    body.request.operation = 'UPDATE';
    body.request.oldObject = podReview(oldSpec).request.object;
    return body;
  };

  it.each([
    ['a container image', { containers: [{ name: 'c', image: 'evil.io/x' }] }],
    [
      'an init container image',
      { initContainers: [{ name: 'i', image: 'evil.io/x' }], containers: [{ name: 'c', image: OK }] },
    ],
    [
      'a grandfathered image moved to another container',
      {
        containers: [
          { name: 'c', image: 'evil.io/old' },
          { name: 'd', image: 'evil.io/old' },
        ],
      },
    ],
    [
      'a grandfathered image moved to another list',
      {
        initContainers: [{ name: 'c', image: 'evil.io/old' }],
        containers: [{ name: 'c', image: 'evil.io/old' }],
      },
    ],
  ])('swapping in %s is denied', async (_name, newSpec) => {
    const body = update(
      {
        containers: [
          { name: 'c', image: 'evil.io/old' },
          { name: 'd', image: OK },
        ],
      },
      newSpec,
    );
    expect(verdict(await review(allow, '/validate', body))).toBe('REGISTRY_NOT_ALLOWED');
  });

  it('a Docker Hub image swapped in is rewritten by the mutator, and the patched Pod is allowed', async () => {
    const body = update(
      { containers: [{ name: 'c', image: OK }] },
      { containers: [{ name: 'c', image: 'nginx:1' }] },
    );
    const mutated = await review(allow, '/mutate', body);
    expect(decodePatch(mutated).some((op) => op.path === '/spec/imagePullSecrets')).toBe(false);
    const pod = applyAnswer(body.request.object, mutated);
    const again = structuredClone(body);
    again.request.object = pod;
    expect(verdict(await review(allow, '/validate', again))).toBe('allow');
    expect(decodePatch(await review(allow, '/mutate', again))).toEqual([]);
  });

  it('a Deployment UPDATE that swaps a template image is denied', async () => {
    const body = admissionFixture('deployment-create.json');
    const old = structuredClone(body.request.object);
    body.request.operation = 'UPDATE';
    body.request.oldObject = old;
    const spec = (
      body.request.object?.['spec'] as { template: { spec: { containers: { image: string }[] } } }
    ).template.spec;
    spec.containers[0] = { ...spec.containers[0], image: 'evil.io/x' };
    expect(verdict(await review(allow, '/validate', body))).toBe('REGISTRY_NOT_ALLOWED');
  });
});
