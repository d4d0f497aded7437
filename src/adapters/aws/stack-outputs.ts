/**
 * The CloudFormation output keys of the deployed stack: the CDK stack writes them and the operator
 * commands read them, so both import them from here (a module with no SDK, light enough for the
 * CDK app to load).
 */
export const STACK_OUTPUTS = {
  bucket: 'BucketName',
  ingestStateMachine: 'IngestStateMachineArn',
  batchStateMachine: 'BatchStateMachineArn',
  alarmTopic: 'AlarmTopicArn',
} as const;

/** The stack name `npx cdk deploy` uses unless `-c stackName=…` says otherwise. */
export const DEFAULT_STACK_NAME = 'Docbatch';
