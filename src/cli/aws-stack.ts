/**
 * What the operator commands (upload, start-batch, executions, watch) share: the stack options,
 * resolving the deployed names from the stack's CloudFormation outputs, the clients, console URLs.
 */
import { type Command, Option } from 'commander';
import type { OperatorClients } from '../adapters/aws/deployment.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS } from '../adapters/aws/stack-outputs.ts';
import { ConfigError } from '../errors.ts';

export interface StackOptions {
  stack: string;
  region?: string;
  bucket?: string;
  stateMachineArn?: string;
}

export interface StackTargets {
  bucket: string;
  ingestStateMachineArn: string;
  batchStateMachineArn: string;
}

/** `--stack`, `--region` and the overrides a command accepts. */
export function addStackOptions(
  command: Command,
  overrides: { bucket?: boolean; stateMachine?: boolean },
): Command {
  command
    .addOption(
      new Option('--stack <name>', 'the deployed docbatch stack (its outputs name the bucket and machines)')
        .env('DOCBATCH_STACK')
        .default(DEFAULT_STACK_NAME),
    )
    .option('--region <region>', 'AWS region of the stack (default: the SDK’s, e.g. AWS_REGION)');
  if (overrides.bucket) command.option('--bucket <name>', 'use this bucket instead of the stack’s');
  if (overrides.stateMachine)
    command.option('--state-machine-arn <arn>', 'use this state machine instead of the stack’s');
  return command;
}

/**
 * The names a command needs: taken from the overrides when given, else from the stack's outputs
 * (one DescribeStacks call, only when something is missing).
 */
export async function resolveTargets<K extends keyof StackTargets>(
  clients: Pick<OperatorClients, 'cfn'>,
  options: StackOptions,
  needed: readonly K[],
  overrides: Partial<StackTargets> = {},
): Promise<Pick<StackTargets, K>> {
  const out: Partial<StackTargets> = { ...overrides };
  const missing = needed.filter((k) => !out[k]);
  if (missing.length > 0) {
    const { describeStackOutputs } = await import('../adapters/aws/deployment.ts');
    const outputs = await describeStackOutputs(clients.cfn, options.stack);
    const keyOf: Record<keyof StackTargets, string> = {
      bucket: STACK_OUTPUTS.bucket,
      ingestStateMachineArn: STACK_OUTPUTS.ingestStateMachine,
      batchStateMachineArn: STACK_OUTPUTS.batchStateMachine,
    };
    for (const k of missing) {
      const value = outputs[keyOf[k]];
      if (!value) {
        throw new ConfigError(
          `stack "${options.stack}" has no ${keyOf[k]} output: is it a docbatch stack? Fix: pass --stack NAME of the stack \`npx cdk deploy\` created.`,
        );
      }
      out[k] = value;
    }
  }
  return out as Pick<StackTargets, K>;
}

/** The AWS region an ARN lives in (`arn:aws:states:<region>:…`). */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!arn.startsWith('arn:') || !region) {
    throw new ConfigError(
      `"${arn}" is not an execution ARN; expected arn:aws:states:<region>:<account>:execution:<machine>:<name> (docbatch executions lists them)`,
    );
  }
  return region;
}

/** The Step Functions console page of one execution. */
export function consoleUrl(executionArn: string): string {
  const region = regionOfArn(executionArn);
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Real clients, loaded only when an AWS command runs: `docbatch run` never pays for the SDK. */
export async function operatorClients(region?: string): Promise<OperatorClients> {
  const { createOperatorClients } = await import('../adapters/aws/deployment.ts');
  return createOperatorClients(region ? { region } : {});
}
