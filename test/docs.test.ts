// What the README and docs/install.md tell a newcomer to run, checked against the real thing: the AdmissionReview
// requests shown go to the real server with the built-in policy (the one `npm start` serves) and the answers
// shown are what it says; the image step builds from a Dockerfile that exists.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../src/policy/index.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** `$ curl … --data @FILE https://localhost:8443/PATH` and the line printed under it. */
const examples = [
  ...readme.matchAll(/^\$ curl .*--data @(\S+) https:\/\/localhost:8443(\/\S+)\n(.+)$/gm),
].map(([, file, path, shown]) => ({ file: file!, path: path!, shown: shown! }));

let gate: TestWebhook;
beforeAll(async () => {
  gate = await startTestWebhook(DEFAULT_POLICY_YAML);
});
afterAll(async () => {
  await gate.stop();
});

describe('the README shows how to send an AdmissionReview to the running server', () => {
  it('with a request of the fixtures to /mutate and one to /validate', () => {
    expect(examples.map((e) => e.path).sort()).toEqual(['/mutate', '/validate']);
  });

  it.each(examples)('$path with $file answers what the README shows', async ({ file, path, shown }) => {
    const answer = await gate.post(path, readFileSync(join(root, file), 'utf8'));
    expect(answer.status).toBe(200);
    // The README elides with `…`: every piece between the elisions is in the answer, in order.
    let from = 0;
    for (const piece of shown.split('…').filter((p) => p !== '')) {
      const at = answer.text.indexOf(piece, from);
      expect(at, `${piece} in ${answer.text}`).toBeGreaterThanOrEqual(from);
      from = at + piece.length;
    }
  });
});

describe('docs/install.md step 1', () => {
  it('builds the image it deploys from this repository, since nothing publishes one', () => {
    const install = readFileSync(join(root, 'docs/install.md'), 'utf8');
    const step = /^1\. (.*?)^2\. /ms.exec(install)?.[1] ?? '';
    const pushed = /npm run image -- --push (\S+)/.exec(step)?.[1];
    const built = /docker build -t (\S+) \./.exec(step)?.[1];
    expect(pushed).toBeDefined();
    expect(built).toBe(pushed);
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.image).toBeDefined();
    expect(install).toContain(`newName: ${pushed?.split(':')[0] ?? ''}`);
  });
});
