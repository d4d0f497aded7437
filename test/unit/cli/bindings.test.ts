import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allStates, loadDefinition } from '../../../src/cli/local-engine.ts';
import { bindTasks } from '../../../src/cli/local-env.ts';
import { makeEnv, type TestEnv } from '../../integration/helpers.ts';

let t: TestEnv;
beforeAll(async () => {
  t = await makeEnv();
});
afterAll(async () => {
  await t.dispose();
});

describe('Function: bindTasks', () => {
  it.each(['ingest', 'batch'] as const)(
    'binds every Task state of the %s machine to a local implementation',
    async (name) => {
      const definition = await loadDefinition(name);
      const taskStates = allStates(definition)
        .filter((s) => s.type === 'Task')
        .map((s) => s.name);
      expect(Object.keys(t.env.bindings[name]).sort()).toEqual(taskStates.sort());
    },
  );

  it('throws naming the state when a Task has no local implementation', async () => {
    const definition = await loadDefinition('ingest');
    const broken = structuredClone(definition) as StateMachineDefinition;
    broken.States['Ocr2'] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:textract:analyzeExpense',
      End: true,
    };
    broken.States['Mystery'] = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:docbatch-local-Mystery',
      End: true,
    };
    expect(() => bindTasks(broken, t.env.ctx, t.env.services.sdk)).toThrow(
      /Ocr2 \(arn:aws:states:::aws-sdk:textract:analyzeExpense\), Mystery/,
    );
  });
});
