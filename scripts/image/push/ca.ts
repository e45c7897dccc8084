import { readFile } from 'node:fs/promises';
import { ImageError } from '../errors.js';

/** `--ca-file FILE`: PEM certificates, read before the build so that a wrong path costs no build. */
export async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ImageError('USAGE', `--ca-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new ImageError('USAGE', `--ca-file ${file}: no PEM certificate in it`);
  return text;
}
