import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `Assemble` Task state. */
export const handler = makeHandler('Assemble');
