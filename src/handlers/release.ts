import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `Release` Task state. */
export const handler = makeHandler('Release');
