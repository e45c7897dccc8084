import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorLookup } from '../../src/policy/index.js';
import { AnswerCache } from '../../src/registry/answer-cache.js';
import { MirrorChecker } from '../../src/registry/checker.js';
import { RegistryClient } from '../../src/registry/client.js';
import {
  CredentialStore,
  type SecretSource,
  type SecretState,
  stateOf,
} from '../../src/registry/credentials.js';
import { Limiter } from '../../src/registry/limiter.js';
import { TokenCache } from '../../src/registry/token.js';
import { Transport } from '../../src/registry/transport.js';
import { startDelayProxy, startStatusServer } from '../helpers/registry-faults.js';
import { ROBOT, labTools, startRegistryLab, type RegistryLab } from '../helpers/registry-lab.js';

const tools = await labTools();
if (typeof tools === 'string') console.warn(`registry client tests skipped: ${tools}`);

/** Secrets held in memory, as the API or a directory would hand them over. */
class MemorySecrets implements SecretSource {
  readonly description = 'memory';
  readonly texts = new Map<string, string>();
  read(name: string): Promise<SecretState> {
    const text = this.texts.get(name);
    return Promise.resolve(
      text === undefined ? { state: 'missing', reason: `${name} not found` } : stateOf(text, name),
    );
  }
}

describe.skipIf(typeof tools === 'string')('registry client against real registries', () => {
  let lab: RegistryLab;
  let transport: Transport;
  let secrets: MemorySecrets;
  let store: CredentialStore;
  let client: RegistryClient;
  let checker: MirrorChecker;

  beforeAll(async () => {
    if (typeof tools === 'string') return;
    lab = await startRegistryLab(tools);
    transport = new Transport({ extraCaPem: await readFile(lab.pki.caFile, 'utf8'), maxSocketsPerHost: 4 });
    secrets = new MemorySecrets();
    secrets.texts.set('robot', lab.dockerConfig());
    secrets.texts.set('wrong', lab.dockerConfig({ username: ROBOT.username, password: 'wrong' }));
    store = new CredentialStore(secrets);
    await store.refresh(['robot', 'wrong']);
    client = new RegistryClient(transport, new TokenCache(), 2000);
    checker = new MirrorChecker({
      client,
      credentials: store,
      cache: new AnswerCache(),
      limiter: new Limiter(4),
    });
  }, 900_000);
  afterAll(async () => {
    transport?.close();
    await lab?.stop();
  });

  const lookup = (
    registry: string,
    repository: string,
    reference: string,
    secrets = ['robot'],
  ): MirrorLookup => ({
    key: `${registry}/${repository}:${reference}`,
    mirror: registry,
    registry,
    repository,
    reference,
    byDigest: reference.startsWith('sha256:'),
    secrets,
    insecure: false,
  });
  /** A secret with the robot's credentials for a proxy's address as well. */
  const proxied = async (host: string): Promise<string[]> => {
    const config = JSON.parse(lab.dockerConfig()) as { auths: Record<string, unknown> };
    config.auths[host] = config.auths[lab.basic.host];
    secrets.texts.set('proxied', JSON.stringify(config));
    await store.refresh(['robot', 'wrong', 'proxied']);
    return ['proxied'];
  };
  const ask = async (l: MirrorLookup, budgetMs = 5000) => (await checker.check([l], budgetMs)).get(l.key);
  const fresh = (): MirrorChecker =>
    new MirrorChecker({
      client: new RegistryClient(transport, new TokenCache(), 2000),
      credentials: store,
      cache: new AnswerCache(),
      limiter: new Limiter(4),
    });

  describe.each(['basic', 'token'] as const)('%s auth', (kind) => {
    const host = (): string => lab[kind].host;
    it('a present tag is found, with the digest crane pushed', async () => {
      expect(await ask(lookup(host(), 'app/one', '1.0'))).toEqual({
        status: 'found',
        digest: lab.images.one,
        httpStatus: 200,
      });
    });
    it('a missing tag is missing (404)', async () => {
      expect(await ask(lookup(host(), 'app/one', 'nope'))).toMatchObject({
        status: 'missing',
        httpStatus: 404,
      });
    });
    it('a present digest is found', async () => {
      expect(await ask(lookup(host(), 'app/two', lab.images.two))).toEqual({
        status: 'found',
        digest: lab.images.two,
        httpStatus: 200,
      });
    });
    it('the digest of another repository is missing', async () => {
      expect(await ask(lookup(host(), 'app/one', lab.images.other))).toMatchObject({
        status: 'missing',
        httpStatus: 404,
      });
    });
    it("a manifest list is found with the list's own digest, not a child's", async () => {
      const answer = await ask(lookup(host(), 'app/multi', '1.0'));
      expect(answer).toEqual({ status: 'found', digest: lab.images.multi, httpStatus: 200 });
      expect([lab.images.one, lab.images.two]).not.toContain(lab.images.multi);
    });
    it('a wrong password is an error naming the refusal, never a "missing"', async () => {
      const answer = await fresh().check([lookup(host(), 'app/one', '1.0', ['wrong'])], 5000);
      const got = [...answer.values()][0];
      expect(got?.status).toBe('error');
      expect(got?.httpStatus).toBe(401);
      expect(got && 'reason' in got ? got.reason : '').toMatch(/refused/);
      expect(JSON.stringify(got)).not.toContain('wrong');
    });
    it('without credentials the registry asks for them: an error saying so', async () => {
      const answer = await fresh().check([lookup(host(), 'app/one', '1.0', [])], 5000);
      expect([...answer.values()][0]).toMatchObject({ status: 'error', httpStatus: 401 });
    });
  });

  it('token flow: one token per scope, reused until it expires', async () => {
    const c = fresh();
    lab.tokenServer.requests.length = 0;
    await c.check([lookup(lab.token.host, 'app/two', '1.0')], 5000);
    await c.check([lookup(lab.token.host, 'app/two', 'nope')], 5000);
    expect(lab.tokenServer.requests).toEqual([{ account: 'robot', scope: ['repository:app/two:pull'] }]);
  });

  it('token flow: a token the registry refuses (expired) is dropped and fetched again, once', async () => {
    const c = fresh();
    lab.tokenServer.requests.length = 0;
    lab.tokenServer.issueExpired = 1;
    expect(await c.check([lookup(lab.token.host, 'app/one', '1.0')], 5000)).toEqual(
      new Map([
        [`${lab.token.host}/app/one:1.0`, { status: 'found', digest: lab.images.one, httpStatus: 200 }],
      ]),
    );
    expect(lab.tokenServer.requests).toHaveLength(2);
  });

  it('token flow: a short expires_in is honoured (a new token once it has run out)', async () => {
    const c = fresh();
    lab.tokenServer.requests.length = 0;
    lab.tokenServer.expiresIn = 6; // minus the 5 s margin: usable for 1 s
    try {
      await c.check([lookup(lab.token.host, 'app/one', '1.0')], 5000);
      await new Promise((r) => setTimeout(r, 1100));
      await c.check([lookup(lab.token.host, 'app/one', 'nope')], 5000);
    } finally {
      lab.tokenServer.expiresIn = 300;
    }
    expect(lab.tokenServer.requests).toHaveLength(2);
  });

  it('a stopped registry (connection refused) is an error at once', async () => {
    const proxy = await startDelayProxy(1, 0);
    await proxy.stop();
    const started = Date.now();
    const got = await fresh().check([lookup(proxy.host, 'app/one', '1.0')], 2000);
    expect([...got.values()][0]).toMatchObject({ status: 'error', httpStatus: null });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a registry that never answers costs the budget, not more: every look-up is an error', async () => {
    const hole = await startDelayProxy(lab.basic.port, Infinity);
    try {
      const started = Date.now();
      const lookups = ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => lookup(hole.host, 'app/one', t));
      const got = await fresh().check(lookups, 400);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(900);
      expect([...got.values()].map((a) => a.status)).toEqual(Array(6).fill('error'));
      expect([...got.values()].every((a) => a.status === 'error' && /budget/.test(a.reason))).toBe(true);
    } finally {
      await hole.stop();
    }
  });

  it('a slow registry answers within the budget when it can, and is an error when it cannot', async () => {
    const slow = await startDelayProxy(lab.basic.port, 100);
    try {
      const secret = await proxied(slow.host);
      expect(
        (await fresh().check([lookup(slow.host, 'app/one', '1.0', secret)], 3000)).get(
          `${slow.host}/app/one:1.0`,
        ),
      ).toMatchObject({
        status: 'found',
        digest: lab.images.one,
      });
      const late = await fresh().check([lookup(slow.host, 'app/one', '1.0', secret)], 150);
      expect([...late.values()][0]).toMatchObject({ status: 'error', httpStatus: null });
    } finally {
      await slow.stop();
    }
  });

  it('a per-request timeout bounds one look-up even when the budget is long', async () => {
    const hole = await startDelayProxy(lab.basic.port, Infinity);
    try {
      const quick = new MirrorChecker({
        client: new RegistryClient(transport, new TokenCache(), 200),
        credentials: store,
        cache: new AnswerCache(),
        limiter: new Limiter(4),
      });
      const started = Date.now();
      const got = await quick.check([lookup(hole.host, 'app/one', '1.0', [])], 5000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect([...got.values()][0]).toMatchObject({
        status: 'error',
        reason: 'the mirror did not answer in time',
      });
    } finally {
      await hole.stop();
    }
  });

  it('500s are errors with the status', async () => {
    const bad = await startStatusServer(
      (await lab.pki.serving('bad', { dns: ['localhost'], ips: ['127.0.0.1'] })).issued,
      500,
    );
    try {
      const got = await fresh().check([lookup(bad.host, 'app/one', '1.0', [])], 2000);
      expect([...got.values()][0]).toMatchObject({
        status: 'error',
        httpStatus: 500,
        reason: 'the mirror answered HTTP 500',
      });
    } finally {
      await bad.stop();
    }
  });

  it('a certificate that does not name the mirror is a TLS error; listed as insecure it is asked anyway', async () => {
    const elsewhere = await lab.pki.serving('elsewhere', { dns: ['elsewhere.test'], ips: [] });
    const wrong = await startStatusServer(elsewhere.issued, 404);
    try {
      const got = await fresh().check([lookup(wrong.host, 'app/one', '1.0')], 2000);
      expect([...got.values()][0]).toMatchObject({ status: 'error', httpStatus: null });
      expect(JSON.stringify([...got.values()][0])).toMatch(/TLS/);
      expect(wrong.hits()).toBe(0);
      const insecure = await fresh().check(
        [{ ...lookup(wrong.host, 'app/one', '1.0'), insecure: true }],
        2000,
      );
      expect([...insecure.values()][0]).toMatchObject({ status: 'missing', httpStatus: 404 });
    } finally {
      await wrong.stop();
    }
  });

  it('answers are cached per image and credentials; a changed secret is a new key', async () => {
    const c = fresh();
    lab.tokenServer.requests.length = 0;
    const l = lookup(lab.token.host, 'app/one', '1.0');
    await c.check([l], 5000);
    await c.check([l], 5000);
    expect(lab.tokenServer.requests).toHaveLength(1);
    secrets.texts.set('robot', lab.dockerConfig({ username: ROBOT.username, password: 'rotated' }));
    expect(await store.refresh(['robot', 'wrong'])).toBe(true);
    try {
      const after = await c.check([l], 5000);
      expect([...after.values()][0]).toMatchObject({ status: 'error', httpStatus: 401 });
    } finally {
      secrets.texts.set('robot', lab.dockerConfig());
      await store.refresh(['robot', 'wrong']);
    }
  });

  it('ping: GET /v2/ says whether the credentials work', async () => {
    const options = { signal: AbortSignal.timeout(5000), insecure: false };
    for (const kind of ['basic', 'token'] as const) {
      const c = new RegistryClient(transport, new TokenCache(), 2000);
      expect(await c.ping(lab[kind].host, { ...options, credentials: ROBOT })).toEqual({
        status: 'ok',
        httpStatus: 200,
      });
      expect(
        await c.ping(lab[kind].host, { ...options, credentials: { ...ROBOT, password: 'no' } }),
      ).toMatchObject({
        status: 'rejected',
        httpStatus: 401,
      });
    }
  });
});
