import { existsSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, placeholdersOf, STATEMACHINE_FILES } from '../../infra/stack.ts';
import { allStates, dummyArn } from '../../src/cli/local-engine.ts';
import { HANDLER_ENTRIES } from '../../src/handlers/index.ts';
import { type TaskName, tasks } from '../../src/tasks/index.ts';
import {
  actionsOf,
  definitionOf,
  logicalId,
  resource,
  type Synthesized,
  statementsOfRole,
  synth,
} from './helpers.ts';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const MACHINES = ['ingest', 'batch'] as const;
const machineOf = (name: (typeof MACHINES)[number]) => (name === 'ingest' ? s.stack.ingest : s.stack.batch);

/**
 * What CloudFormation does with DefinitionSubstitutions: every `${Name}` replaced by the value,
 * here a well-formed ARN standing for the resource the value refers to.
 */
function substituted(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const value = substitutions[name] as { 'Fn::GetAtt'?: string[] } | undefined;
    const id = value?.['Fn::GetAtt']?.[0];
    if (!id) return whole;
    const type = resource(s.template, id)['Type'];
    return type === 'AWS::Lambda::Function'
      ? `arn:aws:lambda:eu-west-1:123456789012:function:${id}`
      : `arn:aws:iam::123456789012:role/${id}`;
  });
}

/** A machine's definition as Step Functions will run it (after CloudFormation's substitution). */
function deployedDefinition(name: (typeof MACHINES)[number]): { States: Record<string, unknown> } {
  const { text, substitutions } = definitionOf(s, logicalId(s.stack, machineOf(name)));
  return JSON.parse(substituted(text, substitutions)) as { States: Record<string, unknown> };
}

describe.each(MACHINES)('GIVEN statemachine/%s.asl.json', (name) => {
  it('WHEN synthesized THEN every placeholder has a substitution, and nothing else does', () => {
    const { substitutions } = definitionOf(s, logicalId(s.stack, machineOf(name)));
    expect(Object.keys(substitutions).sort()).toEqual(placeholdersOf(STATEMACHINE_FILES[name]));
  });

  it('WHEN synthesized THEN each function placeholder is its task’s function and the role placeholder the Bedrock batch role', () => {
    const { substitutions } = definitionOf(s, logicalId(s.stack, machineOf(name)));
    for (const [placeholder, value] of Object.entries(substitutions)) {
      if (placeholder.endsWith('FunctionArn')) {
        const task = placeholder.slice(0, -'FunctionArn'.length) as TaskName;
        expect(task in tasks, `${placeholder} names no task in src/tasks/index.ts`).toBe(true);
        expect(value).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.functions[task]), 'Arn'] });
      } else {
        expect(placeholder).toBe('BedrockBatchRoleArn');
        expect(value).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.bedrockBatchRole), 'Arn'] });
      }
    }
  });

  it('WHEN substituted as CloudFormation does THEN the definition is valid ASL (asl-validator, ARNs and paths checked)', () => {
    const definition = deployedDefinition(name);
    expect(JSON.stringify(definition)).not.toMatch(/\$\{/);
    const { isValid, errorsText } = aslValidator(definition, { checkArn: true, checkPaths: true });
    expect(isValid, errorsText('\n')).toBe(true);
  });

  it('WHEN synthesized THEN the definition is the file the CLI runs offline, byte for byte', async () => {
    const { readFile } = await import('node:fs/promises');
    const { text } = definitionOf(s, logicalId(s.stack, machineOf(name)));
    expect(text).toBe(await readFile(STATEMACHINE_FILES[name], 'utf8'));
  });

  it('WHEN its role is synthesized THEN every AWS SDK integration the machine calls is granted', () => {
    const needed = allStates(deployedDefinition(name))
      .map((st) => st.resource ?? '')
      .filter((r) => r.startsWith('arn:aws:states:::aws-sdk:'))
      .map((r) => {
        const [service, action] = r.slice('arn:aws:states:::aws-sdk:'.length).split(':');
        return `${service}:${(action ?? '').charAt(0).toUpperCase()}${(action ?? '').slice(1)}`;
      });
    expect(needed.length).toBeGreaterThan(0);
    const roleId = (
      resource(s.template, logicalId(s.stack, machineOf(name)))['Properties'] as {
        RoleArn: { 'Fn::GetAtt': string[] };
      }
    ).RoleArn['Fn::GetAtt'][0] as string;
    const granted = new Set(actionsOf(statementsOfRole(s.template, roleId)));
    expect(needed.filter((a) => !granted.has(a))).toEqual([]);
  });

  it('WHEN read THEN every Lambda Task state takes its function from a placeholder (no account baked in)', () => {
    const lambdas = allStates(deployedDefinition(name)).filter((st) =>
      st.resource?.startsWith('arn:aws:lambda:'),
    );
    expect(lambdas.length).toBeGreaterThan(0);
    for (const st of lambdas) expect(st.resource).toMatch(/:function:\w+Function[0-9A-F]{8}$/);
  });
});

describe('GIVEN the task registry', () => {
  it('WHEN the offline runner substitutes the placeholders THEN each function placeholder binds to the same task', () => {
    // local-env.ts binds `…:function:docbatch-local-<Task>` to tasks[Task]; the stack binds <Task>Function.
    for (const m of MACHINES) {
      for (const p of placeholdersOf(STATEMACHINE_FILES[m]).filter((x) => x.endsWith('FunctionArn'))) {
        const task = p.slice(0, -'FunctionArn'.length);
        expect(dummyArn(p)).toMatch(new RegExp(`:function:docbatch-local-${task}$`));
        expect(task in tasks).toBe(true);
      }
    }
  });

  it('WHEN compared with the handlers THEN every task has a Lambda entry file exporting `handler`', () => {
    expect(Object.keys(HANDLER_ENTRIES).sort()).toEqual(Object.keys(tasks).sort());
    for (const entry of Object.values(HANDLER_ENTRIES))
      expect(existsSync(join(PROJECT_ROOT, 'src/handlers', entry)), entry).toBe(true);
  });

  it('WHEN compared with both machines THEN every task is used by one of them and has a function', () => {
    const used = MACHINES.flatMap((m) => placeholdersOf(STATEMACHINE_FILES[m]))
      .filter((p) => p.endsWith('FunctionArn'))
      .map((p) => p.slice(0, -'FunctionArn'.length))
      .sort();
    expect(used).toEqual(Object.keys(tasks).sort());
    expect(Object.keys(s.stack.functions).sort()).toEqual(used);
  });
});
