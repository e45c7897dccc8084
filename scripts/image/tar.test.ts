import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar, { type Header } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError } from './errors.js';
import { writeLayer, type LayerEntry } from './tar.js';

const MTIME = new Date('2026-01-02T03:04:05Z');

async function headers(file: string): Promise<Header[]> {
  const extract = tar.extract();
  Readable.from(await readFile(file)).pipe(extract);
  const found: Header[] = [];
  for await (const entry of extract) {
    entry.resume();
    found.push(entry.header);
  }
  return found;
}

describe('writeLayer', () => {
  let dir: string;
  let source: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-gate-tar-'));
    source = join(dir, 'source.js');
    await writeFile(source, 'console.log(1);\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const entries: LayerEntry[] = [
    {
      kind: 'file',
      path: 'app/dist/main.js',
      mode: 0o755,
      content: { data: Buffer.from('#!/usr/bin/env node\n') },
    },
    { kind: 'directory', path: 'tmp', mode: 0o1777 },
    {
      kind: 'symlink',
      path: 'lib64/ld-linux-x86-64.so.2',
      target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    },
    { kind: 'directory', path: './usr/', mode: 0o755 },
    { kind: 'directory', path: 'usr', mode: 0o755 },
  ];

  it('gives the same bytes and diff_id for the same entries in any order', async () => {
    const withFile = [
      ...entries,
      { kind: 'file', path: 'app/x.js', mode: 0o644, content: { file: source } } as const,
    ];
    const a = await writeLayer(withFile, join(dir, 'a.tar'), MTIME);
    const b = await writeLayer([...withFile].reverse(), join(dir, 'b.tar'), MTIME);
    expect(a.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.diffId).toBe(a.diffId);
    expect(await readFile(b.file)).toEqual(await readFile(a.file));
    expect(a.size).toBe((await readFile(a.file)).length);
  });

  it('sorts, adds parents, owns everything by 0:0 at one mtime and keeps the modes', async () => {
    const layer = await writeLayer(entries, join(dir, 'c.tar'), MTIME);
    const found = await headers(layer.file);
    expect(found.map((h) => `${h.type} ${h.name} ${h.mode.toString(8)}`)).toEqual([
      'directory app/ 755',
      'directory app/dist/ 755',
      'file app/dist/main.js 755',
      'directory lib64/ 755',
      'symlink lib64/ld-linux-x86-64.so.2 777',
      'directory tmp/ 1777',
      'directory usr/ 755',
    ]);
    for (const h of found) {
      expect([h.uid, h.gid, h.uname, h.gname]).toEqual([0, 0, '', '']);
      expect(h.mtime.getTime()).toBe(MTIME.getTime());
    }
  });

  it('keeps long paths whole (pax)', async () => {
    const long = `app/node_modules/${'a'.repeat(120)}/${'b'.repeat(120)}/index.js`;
    const layer = await writeLayer(
      [{ kind: 'file', path: long, mode: 0o644, content: { data: Buffer.from('x') } }],
      join(dir, 'd.tar'),
      MTIME,
    );
    expect((await headers(layer.file)).map((h) => h.name)).toContain(long);
  });

  it.each<[string, LayerEntry[]]>([
    [
      'one path twice with different content',
      [
        { kind: 'file', path: 'etc/passwd', mode: 0o644, content: { data: Buffer.from('a') } },
        { kind: 'file', path: 'etc/passwd', mode: 0o644, content: { data: Buffer.from('b') } },
      ],
    ],
    [
      'one directory twice with different modes',
      [
        { kind: 'directory', path: 'tmp', mode: 0o1777 },
        { kind: 'directory', path: 'tmp', mode: 0o755 },
      ],
    ],
    ['a path that leaves the root', [{ kind: 'symlink', path: 'a/../../etc', target: 'x' }]],
  ])('refuses %s', async (_name, bad) => {
    await expect(writeLayer(bad, join(dir, 'bad.tar'), MTIME)).rejects.toBeInstanceOf(ImageError);
  });
});
