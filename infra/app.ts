/**
 * The CDK app: `npx cdk deploy` (or `npm run synth`) runs this file with the project's Node 24.
 * Settings come from context: `-c modelId=… -c schedule='cron(0 2 * * ? *)' -c timezone=Europe/Berlin`.
 */
import { App, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { DEFAULT_STACK_NAME } from '../src/adapters/aws/stack-outputs.ts';
import { errorMessage } from '../src/errors.ts';
import { loadSettings } from './config.ts';
import { DocbatchStack } from './stack.ts';

// cdk-nag is CommonJS without static export names: Node's ESM loader only sees its default export.
const { AwsSolutionsChecks } = cdkNag;

// Synthesised explicitly below, once: auto-synthesis on exit would repeat a failed synth's error.
const app = new App({ autoSynth: false });
try {
  const settings = await loadSettings((key) => app.node.tryGetContext(key));
  const stackName = String(app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME);
  new DocbatchStack(app, stackName, {
    settings,
    description: 'docbatch: OCR on upload, nightly Amazon Bedrock batch extraction, validated JSON records',
  });
  // Every AwsSolutions finding fails the synth unless the stack acknowledges it with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
} catch (error) {
  process.stderr.write(`docbatch infra: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
