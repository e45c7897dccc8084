import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from './gate.js';
import type { Run } from './kubectl.js';

/**
 * What a user sees in a terminal: the command, kubectl's warnings and errors (stderr, printed as the response
 * arrives), then its output, then the exit code when it is not 0.
 */
export function transcript(command: string, run: Run): string {
  const lines = [`$ ${command}`, run.stderr.trimEnd(), run.stdout.trimEnd()].filter((l) => l !== '');
  if (run.code !== 0) lines.push(`$ echo $?`, String(run.code));
  return lines.join('\n');
}

/**
 * What differs on every run (object uids, timestamps, generated names, kubectl diff's temp files), replaced by
 * placeholders so that a documented transcript can stay the same; docs say so next to such transcripts.
 */
export function withoutVolatileParts(text: string): string {
  return text
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uid>')
    .replace(/"?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"?/g, '<time>')
    .replace(/\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4}/g, '\t<time>')
    .replace(/kube-api-access-[a-z0-9]{5}/g, 'kube-api-access-<id>')
    .replace(/\/tmp\/(LIVE|MERGED)-\d+/g, '/tmp/$1-<n>');
}

const UPDATE = process.env.REGISTRY_GATE_UPDATE_TRANSCRIPTS === '1';

/**
 * The kubectl transcripts in docs/ come from this suite: each sits in a ```console block right after a marker
 * `<!-- transcript: ID -->`, and must equal what kubectl printed in this run. REGISTRY_GATE_UPDATE_TRANSCRIPTS=1
 * rewrites the blocks instead (then review the diff).
 */
export async function expectDocumentedTranscript(doc: string, id: string, text: string): Promise<void> {
  const path = join(repoRoot, doc);
  const content = await readFile(path, 'utf8');
  const marker = `<!-- transcript: ${id} -->`;
  const at = content.indexOf(marker);
  expect(at, `${doc} has no marker ${marker}`).toBeGreaterThanOrEqual(0);
  const open = content.indexOf('```console\n', at);
  const close = content.indexOf('\n```', open + 11);
  expect(open, `${doc}: a \`\`\`console block must follow ${marker}`).toBeGreaterThan(at);
  const documented = content.slice(open + 11, close);
  if (UPDATE) {
    if (documented !== text) await writeFile(path, content.slice(0, open + 11) + text + content.slice(close));
    return;
  }
  expect(
    documented,
    `${doc} ${marker} is out of step with kubectl; rerun with REGISTRY_GATE_UPDATE_TRANSCRIPTS=1`,
  ).toBe(text);
}
