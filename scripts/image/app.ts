import { chmod, cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_INPUTS, DEPENDENCY_INPUTS } from './plan.js';
import { runTool } from './run.js';

export interface StagedApp {
  /** The compiled program (`dist/`), as the Dockerfile's build stage makes it. */
  readonly dist: string;
  /** A directory holding `package.json` and the production `node_modules`, as its dependency stage makes it. */
  readonly dependencies: string;
}

/**
 * Does what the Dockerfile's build and dependency stages do, in `work` (which must lie inside the checkout, so
 * that the compiler finds the checkout's TypeScript and @types): compile `src/` (without tests) with the
 * project's own tsconfig, and install the production dependencies alone from the lockfile, no install scripts.
 */
export async function stageApp(root: string, work: string): Promise<StagedApp> {
  const context = join(work, 'build');
  const dependencies = join(work, 'dependencies');
  await rm(work, { recursive: true, force: true });
  await mkdir(context, { recursive: true });
  await mkdir(dependencies, { recursive: true });
  for (const input of BUILD_INPUTS)
    await cp(join(root, input), join(context, input), {
      recursive: true,
      filter: (source) => !source.endsWith('.test.ts'),
    });
  for (const input of DEPENDENCY_INPUTS) await cp(join(root, input), join(dependencies, input));

  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = runTool(process.execPath, [tsc, '-p', join(context, 'tsconfig.build.json')], {
    hint: 'npm ci first: the build uses the checkout’s TypeScript',
  });
  const installed = runTool(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: dependencies, failure: 'FETCH', hint: 'is the npm registry reachable?' },
  );
  await Promise.all([compiled, installed]);
  // `npm run build` makes the entry point executable (it is the package's bin); so does the image.
  await chmod(join(context, 'dist', 'main.js'), 0o755);
  return { dist: join(context, 'dist'), dependencies };
}
