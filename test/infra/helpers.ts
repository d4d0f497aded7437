import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { settingsFrom } from '../../infra/config.ts';
import { DocbatchStack } from '../../infra/stack.ts';

export interface Synthesized {
  app: App;
  stack: DocbatchStack;
  template: Template;
  /** The cloud assembly directory (assets such as the state machine definitions live there). */
  outdir: string;
}

/**
 * The stack as `npx cdk deploy` would build it from this context, minus asset bundling: tests stay
 * fast and offline (`aws:cdk:bundling-stacks: []` skips esbuild; `npm run synth` does the real one).
 */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DocbatchStack(app, 'Docbatch', { settings: settingsFrom((key) => context[key]) });
  const template = Template.fromStack(stack);
  const outdir = app.synth().directory;
  return { app, stack, template, outdir };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: DocbatchStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

type Json = Record<string, unknown>;

/** The resource with this logical id. */
export function resource(template: Template, id: string): Json {
  const r = (template.toJSON() as { Resources: Record<string, Json> }).Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
}

/** Every policy statement attached to a role (inline AWS::IAM::Policy resources naming it). */
export function statementsOfRole(template: Template, roleId: string): Json[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Json[] = [];
  for (const p of Object.values(policies)) {
    const props = p['Properties'] as { Roles: { Ref: string }[]; PolicyDocument: { Statement: Json[] } };
    if (props.Roles.some((r) => r.Ref === roleId)) out.push(...props.PolicyDocument.Statement);
  }
  return out;
}

/** Actions of statements, flattened. */
export function actionsOf(statements: Json[]): string[] {
  return statements.flatMap((s) =>
    Array.isArray(s['Action']) ? (s['Action'] as string[]) : [s['Action'] as string],
  );
}

/** The statements granting an action. */
export function granting(statements: Json[], action: string): Json[] {
  return statements.filter((s) => actionsOf([s]).includes(action));
}

/** A statement's resources as comparable strings: `<Logical.Arn>/prefix*`, `*`, ARNs with tokens. */
export function resourcesOf(statement: Json): string[] {
  const list = Array.isArray(statement['Resource'])
    ? (statement['Resource'] as unknown[])
    : [statement['Resource']];
  return list.map(render);
}

/** Renders CloudFormation intrinsic values readably, e.g. `<BucketX.Arn>/incoming/*`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Ref']) return `<${v['Ref'] as string}>`;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  return JSON.stringify(value);
}

/** The definition file of a state machine as synthesized (an asset), with its substitutions. */
export function definitionOf(
  s: Synthesized,
  machineId: string,
): { text: string; substitutions: Record<string, unknown> } {
  const props = resource(s.template, machineId)['Properties'] as {
    DefinitionS3Location: { Key: string };
    DefinitionSubstitutions: Record<string, unknown>;
  };
  const text = readFileSync(join(s.outdir, `asset.${props.DefinitionS3Location.Key}`), 'utf8');
  return { text, substitutions: props.DefinitionSubstitutions };
}
