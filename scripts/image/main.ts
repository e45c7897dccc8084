// `npm run image [-- --push REF [--ca-file FILE]]`: builds the production image into an OCI archive without a
// container engine, and pushes it when asked. Progress goes to stderr, the result to stdout.
// Exit 0: built (and pushed); 1: the build or the push failed; 2: bad usage. Every failure is one line.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildImage, mb } from './build.js';
import { buildTimestamp } from './epoch.js';
import { ImageError } from './errors.js';
import { readCaFile } from './push/ca.js';
import { pushLayout } from './push/push.js';
import { parsePushTarget } from './push/target.js';

// Compiled to dist-scripts/scripts/image/main.js: the checkout is three levels up.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const USAGE = 'usage: npm run image [-- --push REF [--ca-file FILE]]';

async function main(argv: readonly string[]): Promise<void> {
  let values: { push?: string | undefined; 'ca-file'?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        push: { type: 'string' },
        'ca-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ImageError('USAGE', error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values['ca-file'] !== undefined && values.push === undefined)
    throw new ImageError('USAGE', '--ca-file is only used with --push');
  // Checked before the build: a typo in REF should not cost a build.
  const target = values.push === undefined ? undefined : parsePushTarget(values.push);
  const ca = values['ca-file'] === undefined ? undefined : await readCaFile(values['ca-file']);

  const cacheBase = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  const started = Date.now();
  const result = await buildImage({
    root,
    out: join(root, 'dist-image'),
    cacheDir: join(cacheBase, 'registry-gate', 'image'),
    created: await buildTimestamp(root, process.env['SOURCE_DATE_EPOCH']),
    log: (line) => process.stderr.write(`image: ${line}\n`),
  });
  process.stdout.write(
    [
      `archive: ${result.archive}`,
      `digest: ${result.digest}`,
      `size: ${mb(result.compressedSize)} compressed, ${mb(result.uncompressedSize)} unpacked`,
      `built in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n') + '\n',
  );
  if (target !== undefined) {
    const pushed = await pushLayout(result.layout, target, {
      ca,
      dockerConfigDir: process.env['DOCKER_CONFIG'] || join(homedir(), '.docker'),
      log: (line) => process.stderr.write(`image: ${line}\n`),
    });
    process.stdout.write(`pushed: ${pushed}\n`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ImageError) {
      const usage = error.code === 'USAGE' ? ` (${USAGE})` : '';
      process.stderr.write(`npm run image: ${error.message}${usage}\n`);
      process.exit(error.code === 'USAGE' ? 2 : 1);
    }
    // The system refused something (ENOSPC, EACCES, ...): its message names the file; no stack needed.
    if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
      process.stderr.write(`npm run image: ${error.message}\n`);
      process.exit(1);
    }
    // Not one of ours: a bug, so the stack is worth printing.
    process.stderr.write(`npm run image: unexpected error\n`);
    console.error(error);
    process.exit(1);
  },
);
