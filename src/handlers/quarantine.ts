import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `Quarantine` Task state. */
export const handler = makeHandler('Quarantine');
