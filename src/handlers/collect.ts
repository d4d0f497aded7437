import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `Collect` Task state. */
export const handler = makeHandler('Collect');
