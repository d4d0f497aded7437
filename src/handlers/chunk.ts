import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `Chunk` Task state. */
export const handler = makeHandler('Chunk');
