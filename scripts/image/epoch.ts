import { ImageError } from './errors.js';
import { runTool } from './run.js';

/**
 * The build's timestamp: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org's convention: whole seconds since
 * 1970), otherwise the time of the checkout's last commit, so that rebuilding a commit gives the same image.
 */
export async function buildTimestamp(root: string, sourceDateEpoch: string | undefined): Promise<Date> {
  if (sourceDateEpoch !== undefined && sourceDateEpoch !== '') {
    if (!/^\d{1,12}$/.test(sourceDateEpoch))
      throw new ImageError(
        'USAGE',
        `SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${sourceDateEpoch}"`,
      );
    return new Date(Number(sourceDateEpoch) * 1000);
  }
  const seconds = (
    await runTool('git', ['log', '-1', '--format=%ct'], {
      cwd: root,
      hint: 'not a git checkout: set SOURCE_DATE_EPOCH',
    })
  ).trim();
  if (!/^\d+$/.test(seconds))
    throw new ImageError('BUILD', 'git log gave no commit time: set SOURCE_DATE_EPOCH');
  return new Date(Number(seconds) * 1000);
}
