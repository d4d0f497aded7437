import { App, aws_sqs as sqs, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { settingsFrom } from '../../infra/config.ts';
import { DocbatchStack } from '../../infra/stack.ts';

// cdk-nag is CommonJS without static export names: Node's ESM loader only sees its default export.
const { AwsSolutionsChecks } = cdkNag;

function build(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DocbatchStack(app, 'Docbatch', { settings: settingsFrom((k) => context[k]) });
  return { app, stack };
}

/** `RuleId[finding] at construct path`, one per unacknowledged finding. */
function findings(app: App): string[] {
  const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map(
      (r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}`,
    ),
  );
}

describe('GIVEN the stack and the cdk-nag AwsSolutions pack', () => {
  it('WHEN checked THEN no finding is left unacknowledged', () => {
    expect(findings(build().app)).toEqual([]);
  });

  it('WHEN checked with a foundation model and extra model ARNs THEN no finding is left unacknowledged', () => {
    const { app } = build({
      modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      modelArns: '["arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]',
    });
    expect(findings(app)).toEqual([]);
  });

  it('WHEN a resource breaking a rule is added THEN the check reports it (the check is live)', () => {
    const { app, stack } = build();
    new sqs.Queue(stack, 'Careless');
    expect(findings(app).join('\n')).toMatch(/AwsSolutions-SQS4 at Docbatch\/Careless/);
  });

  it('WHEN acknowledgments are read THEN every one carries a written reason', () => {
    const { stack } = build();
    const acknowledged: [string, string][] = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        acknowledged.push(...Object.entries(m.data as Record<string, string>));
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) {
      expect(id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, `reason for ${id}`).toBeGreaterThan(40);
    }
  });
});
