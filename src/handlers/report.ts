import { makeHandler, publishRunMetrics } from './runtime.ts';

/** Lambda entry point of the `Report` Task state (publishes the run's EMF metrics). */
export const handler = makeHandler('Report', { afterTask: (output) => publishRunMetrics(output) });
