import { MupdfReader } from '../adapters/documents/mupdf-reader.ts';
import type { ObjectStore } from '../ports.ts';
import { makeHandler } from './runtime.ts';

/**
 * The key as it is in the bucket. S3 notification keys are URL-encoded ("red flower.jpg" arrives
 * as "red+flower.jpg"); whether EventBridge's `detail.object.key` is too is not documented
 * (AWS_CONTRACTS.md ⚠), so a key that is not there as given is tried decoded. One HEAD per upload.
 */
export async function keyInBucket(store: ObjectStore, key: string): Promise<string> {
  if (await store.head(key)) return key;
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
  return decoded !== key && (await store.head(decoded)) ? decoded : key;
}

/** Lambda entry point of the `Register` Task state (bundled with mupdf: it inspects the upload). */
export const handler = makeHandler('Register', {
  reader: () => new MupdfReader(),
  prepare: async (event, ctx) => {
    const input = event as { bucket?: string; key?: unknown };
    if (typeof input.key !== 'string') return event;
    return { ...input, key: await keyInBucket(ctx.store, input.key) };
  },
});
