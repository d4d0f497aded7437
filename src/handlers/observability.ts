/**
 * Names shared by the handlers (which emit) and the CDK stack (which alarms on them). No SDK or
 * Powertools import here: the CDK app loads this module.
 */
export const SERVICE_NAME = 'docbatch';
export const METRICS_NAMESPACE = 'Docbatch';
export const METRICS = {
  /** Documents of one batch run that ended in rejected/ (emitted once per run by Report). */
  rejectedDocuments: 'RejectedDocuments',
  /** Documents of one batch run that ended in results/. */
  resultDocuments: 'ResultDocuments',
} as const;
