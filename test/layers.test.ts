// The layer guard of eslint.config.js, asked about imports that break the picture of docs/architecture.md: by
// package path and by relative path alike. ESLint runs in-process on probe texts; no file is written.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const eslint = new ESLint({ cwd: root });

async function problems(filePath: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${root}${filePath}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('layers point one way', () => {
  it.each([
    ['src/policy/probe.ts', "import '../http/app.js';\n", /src\/policy may not import src\/http/],
    [
      'src/engine/probe.ts',
      "export { admit } from '../admission/admit.js';\n",
      /src\/engine may not import src\/admission/,
    ],
    [
      'src/http/probe.ts',
      "import { Metrics } from '../runtime/metrics.js';\nexport const m = Metrics;\n",
      /src\/http may not import src\/runtime/,
    ],
    ['src/kube/probe.ts', "import '../runtime/webhook.js';\n", /src\/kube may not import src\/runtime/],
    ['src/cli/probe.ts', "import '../main.js';\n", /Nothing imports the composition root/],
    [
      'src/policy/probe.ts',
      "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
      /The core is pure/,
    ],
    [
      'src/admission/probe.ts',
      "export const load = () => import('../policy/index.js');\n",
      /loads no module at run time/,
    ],
  ])(
    '%s: %s is refused',
    async (file, text, message) => {
      expect((await problems(file, text)).join('\n')).toMatch(message);
    },
    30_000,
  );

  it.each([
    [
      'src/admission/probe.ts',
      "import { evaluateWorkload } from '../engine/index.js';\nexport const e = evaluateWorkload;\n",
    ],
    [
      'src/cli/probe.ts',
      "import { startWebhook } from '../runtime/webhook.js';\nexport const s = startWebhook;\n",
    ],
    ['src/runtime/probe.ts', "import { createApp } from '../http/app.js';\nexport const c = createApp;\n"],
  ])(
    '%s: an import downwards is fine',
    async (file, text) => {
      expect(await problems(file, text)).toEqual([]);
    },
    30_000,
  );
});
