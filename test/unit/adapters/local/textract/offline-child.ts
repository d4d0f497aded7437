/**
 * Runs an OCR engine in a child process whose every network request is refused: Node sends all
 * fetches through a proxy on a closed port. The script prints `{ blocked, words }` as its last
 * line: whether a download would have failed, and the WORD texts it read.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

export async function runWithoutNetwork(script: string): Promise<{ blocked: boolean; words: string[] }> {
  const env = {
    ...process.env,
    NODE_USE_ENV_PROXY: '1',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
  };
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { blocked: boolean; words: string[] };
}
