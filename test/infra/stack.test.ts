import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3_ACCESS } from '../../infra/stack.ts';
import { configFromEnv } from '../../src/config.ts';
import { HANDLER_ENTRIES } from '../../src/handlers/index.ts';
import type { TaskName } from '../../src/tasks/index.ts';
import {
  actionsOf,
  granting,
  logicalId,
  resource,
  resourcesOf,
  type Synthesized,
  statementsOfRole,
  synth,
} from './helpers.ts';

let s: Synthesized;
let bucket: string;
/** The role a state machine runs as. */
const roleOf = (id: string) =>
  (resource(s.template, id)['Properties'] as { RoleArn: { 'Fn::GetAtt': string[] } }).RoleArn[
    'Fn::GetAtt'
  ][0] ?? '';

beforeAll(() => {
  s = synth();
  bucket = logicalId(s.stack, s.stack.bucket);
});

describe('GIVEN the default settings', () => {
  describe('WHEN the bucket is synthesized', () => {
    it('THEN it is encrypted, private, TLS-only, versioned and sends events to EventBridge', () => {
      s.template.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          VersioningConfiguration: { Status: 'Enabled' },
          NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
          LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'docbatch/' }),
        }),
      });
      // The notification is the bucket's own property: no custom-resource Lambda to maintain.
      expect(s.template.findResources('Custom::S3BucketNotifications')).toEqual({});
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('THEN runs/ and ocr/ expire, old versions and abandoned multipart uploads are cleaned up', () => {
      const rules = (
        resource(s.template, bucket)['Properties'] as {
          LifecycleConfiguration: { Rules: Record<string, unknown>[] };
        }
      ).LifecycleConfiguration.Rules;
      expect(rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Prefix: 'runs/', ExpirationInDays: 30, Status: 'Enabled' }),
          expect.objectContaining({ Prefix: 'ocr/', ExpirationInDays: 30, Status: 'Enabled' }),
          expect.objectContaining({
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ]),
      );
    });
  });

  describe('WHEN the upload trigger is synthesized', () => {
    it('THEN an Object Created event under incoming/ of this bucket starts the ingest machine, with retries and a DLQ', () => {
      s.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: [{ Ref: bucket }] }, object: { key: [{ prefix: 'incoming/' }] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { Ref: logicalId(s.stack, s.stack.ingest) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.triggerDeadLetterQueue), 'Arn'] },
            },
          }),
        ],
      });
    });

    it('THEN the rule’s role is trusted by events.amazonaws.com and may only start the ingest machine', () => {
      const rule = Object.values(s.template.findResources('AWS::Events::Rule')).find(
        (r) =>
          (r['Properties'] as { EventPattern: { source: string[] } }).EventPattern.source[0] === 'aws.s3',
      );
      if (!rule) throw new Error('no S3 upload rule');
      const roleId = (rule['Properties'] as { Targets: { RoleArn: { 'Fn::GetAtt': string[] } }[] }).Targets[0]
        ?.RoleArn['Fn::GetAtt'][0] as string;
      expect(resource(s.template, roleId)['Properties']).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' } })],
        },
      });
      const statements = statementsOfRole(s.template, roleId);
      expect(actionsOf(statements)).toEqual(['states:StartExecution']);
      expect(resourcesOf(statements[0] ?? {})).toEqual([`<${logicalId(s.stack, s.stack.ingest)}>`]);
    });
  });

  describe('WHEN the nightly schedule is synthesized', () => {
    it('THEN EventBridge Scheduler starts the batch machine on the cron, in the time zone, with a DLQ', () => {
      s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({
          Arn: { Ref: logicalId(s.stack, s.stack.batch) },
          Input: '{}',
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.triggerDeadLetterQueue), 'Arn'] },
          },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 10 }),
        }),
      });
      const schedule = Object.values(s.template.findResources('AWS::Scheduler::Schedule'))[0];
      if (!schedule) throw new Error('no schedule');
      const roleId = (schedule['Properties'] as { Target: { RoleArn: { 'Fn::GetAtt': string[] } } }).Target
        .RoleArn['Fn::GetAtt'][0] as string;
      expect(resource(s.template, roleId)['Properties']).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [
            expect.objectContaining({
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ],
        },
      });
      const statements = statementsOfRole(s.template, roleId);
      expect(granting(statements, 'states:StartExecution').flatMap(resourcesOf)).toEqual([
        `<${logicalId(s.stack, s.stack.batch)}>`,
      ]);
    });
  });

  describe('WHEN the state machines are synthesized', () => {
    it.each([
      ['ingest', () => s.stack.ingest],
      ['batch', () => s.stack.batch],
    ])('THEN %s is STANDARD, traced, logs every event without execution data, from the ASL file', (_, m) => {
      const props = resource(s.template, logicalId(s.stack, m()))['Properties'] as Record<string, unknown>;
      expect(props).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
        DefinitionS3Location: expect.objectContaining({ Key: expect.stringMatching(/\.json$/) }),
      });
    });

    it('THEN the ingest role invokes only the ingest functions, runs Textract and lets it read incoming/ and write ocr/', () => {
      const statements = statementsOfRole(s.template, roleOf(logicalId(s.stack, s.stack.ingest)));
      const fnArn = (t: TaskName) => `<${logicalId(s.stack, s.stack.functions[t])}.Arn>`;
      expect(granting(statements, 'lambda:InvokeFunction').flatMap(resourcesOf).sort()).toEqual(
        (['Register', 'ExtractTextLayer', 'Chunk', 'Quarantine'] as TaskName[]).map(fnArn).sort(),
      );
      expect(granting(statements, 'textract:StartDocumentTextDetection').flatMap(resourcesOf)).toEqual(['*']);
      expect(granting(statements, 'textract:GetDocumentTextDetection').flatMap(resourcesOf)).toEqual(['*']);
      expect(granting(statements, 's3:GetObject').flatMap(resourcesOf)).toEqual([
        `<${bucket}.Arn>/incoming/*`,
      ]);
      expect(granting(statements, 's3:PutObject').flatMap(resourcesOf)).toEqual([`<${bucket}.Arn>/ocr/*`]);
      expect(actionsOf(statements).filter((a) => a.startsWith('bedrock:') || a === 'iam:PassRole')).toEqual(
        [],
      );
    });

    it('THEN the batch role invokes only the batch functions, drives Bedrock jobs and passes only the Bedrock batch role', () => {
      const statements = statementsOfRole(s.template, roleOf(logicalId(s.stack, s.stack.batch)));
      const fnArn = (t: TaskName) => `<${logicalId(s.stack, s.stack.functions[t])}.Arn>`;
      expect(granting(statements, 'lambda:InvokeFunction').flatMap(resourcesOf).sort()).toEqual(
        (['Assemble', 'InvokeOnDemand', 'Collect', 'Release', 'Report'] as TaskName[]).map(fnArn).sort(),
      );
      const jobs = 'arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:model-invocation-job/*';
      expect(granting(statements, 'bedrock:CreateModelInvocationJob').flatMap(resourcesOf)).toEqual([
        jobs,
        'arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
        'arn:<AWS::Partition>:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      ]);
      for (const action of ['bedrock:GetModelInvocationJob', 'bedrock:StopModelInvocationJob'])
        expect(granting(statements, action).flatMap(resourcesOf)).toEqual([jobs]);
      const pass = granting(statements, 'iam:PassRole');
      expect(pass).toHaveLength(1);
      expect(resourcesOf(pass[0] ?? {})).toEqual([`<${logicalId(s.stack, s.stack.bedrockBatchRole)}.Arn>`]);
      expect(pass[0]?.['Condition']).toEqual({
        StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' },
      });
      expect(actionsOf(statements).filter((a) => a.startsWith('s3:') || a.startsWith('textract:'))).toEqual(
        [],
      );
    });
  });

  describe('WHEN the Bedrock batch service role is synthesized', () => {
    it('THEN only Bedrock jobs of this account and region can assume it', () => {
      expect(resource(s.template, logicalId(s.stack, s.stack.bedrockBatchRole))['Properties']).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'bedrock.amazonaws.com' },
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':bedrock:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':model-invocation-job/*',
                      ],
                    ],
                  },
                },
              },
            },
          ],
        },
      });
    });

    it('THEN it reads run inputs, lists only their prefix, writes run outputs and invokes the configured model', () => {
      const statements = statementsOfRole(s.template, logicalId(s.stack, s.stack.bedrockBatchRole));
      expect(granting(statements, 's3:GetObject').flatMap(resourcesOf)).toEqual([
        `<${bucket}.Arn>/runs/*/input/*`,
      ]);
      expect(granting(statements, 's3:PutObject').flatMap(resourcesOf)).toEqual([
        `<${bucket}.Arn>/runs/*/output/*`,
      ]);
      const list = granting(statements, 's3:ListBucket');
      expect(list.flatMap(resourcesOf)).toEqual([`<${bucket}.Arn>`]);
      expect(list[0]?.['Condition']).toMatchObject({ StringLike: { 's3:prefix': ['runs/*/input/*'] } });
      expect(granting(statements, 'bedrock:InvokeModel').flatMap(resourcesOf)).toEqual([
        'arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
        'arn:<AWS::Partition>:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      ]);
      expect(actionsOf(statements).sort()).toEqual([
        'bedrock:InvokeModel',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ]);
    });
  });

  describe('WHEN the task functions are synthesized', () => {
    it('THEN there is one Node 24 arm64 function per task handler, traced, within the Lambda timeout', () => {
      const functions = s.template.findResources('AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(Object.keys(HANDLER_ENTRIES).length);
      for (const f of Object.values(functions)) {
        const p = f['Properties'] as Record<string, unknown>;
        expect(p).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
        });
        expect(p['Timeout']).toBeLessThanOrEqual(900);
      }
    });

    it('THEN the tasks that hold a whole document get more memory', () => {
      const memory = (t: TaskName) =>
        (
          resource(s.template, logicalId(s.stack, s.stack.functions[t]))['Properties'] as {
            MemorySize: number;
          }
        ).MemorySize;
      expect(memory('Register')).toBeGreaterThanOrEqual(3008);
      expect(memory('ExtractTextLayer')).toBeGreaterThanOrEqual(3008);
      expect(memory('Report')).toBeLessThan(memory('Collect'));
    });

    it('THEN Collect alone runs with small young-generation semi-spaces, every function with source maps', () => {
      const nodeOptions = (t: TaskName) =>
        (
          resource(s.template, logicalId(s.stack, s.stack.functions[t]))['Properties'] as {
            Environment: { Variables: Record<string, string> };
          }
        ).Environment.Variables['NODE_OPTIONS'];
      expect(nodeOptions('Collect')).toBe('--enable-source-maps --max-semi-space-size=4');
      for (const t of Object.keys(s.stack.functions) as TaskName[])
        if (t !== 'Collect') expect(nodeOptions(t)).toBe('--enable-source-maps');
    });

    it('THEN every function gets the bucket and a configuration the handler resolves to the stack’s settings', () => {
      for (const fn of Object.values(s.stack.functions)) {
        const env = (
          resource(s.template, logicalId(s.stack, fn))['Properties'] as {
            Environment: { Variables: Record<string, unknown> };
          }
        ).Environment.Variables;
        expect(env['DOCBATCH_BUCKET']).toEqual({ Ref: bucket });
        expect(env['POWERTOOLS_SERVICE_NAME']).toBe('docbatch');
        const config = configFromEnv(env as Record<string, string>);
        const expected = s.stack.settings.config;
        expect(config.model).toEqual(expected.model);
        expect(config.quotas).toEqual(expected.quotas);
        expect(config.batch).toEqual(expected.batch);
        expect(config.chunk).toEqual(expected.chunk);
        expect(config.ocr).toEqual(expected.ocr);
      }
    });

    it.each(Object.keys(S3_ACCESS) as TaskName[])(
      'THEN %s may read, write and delete only its own prefixes (and read schemas/)',
      (task) => {
        const fn = s.stack.functions[task];
        const roleId = (
          resource(s.template, logicalId(s.stack, fn))['Properties'] as { Role: { 'Fn::GetAtt': string[] } }
        ).Role['Fn::GetAtt'][0] as string;
        const statements = statementsOfRole(s.template, roleId);
        const objects = (prefixes: string[]) => prefixes.map((p) => `<${bucket}.Arn>/${p}*`).sort();
        const access = S3_ACCESS[task];
        expect(granting(statements, 's3:GetObject').flatMap(resourcesOf).sort()).toEqual(
          objects([...access.read, 'schemas/']),
        );
        expect(granting(statements, 's3:PutObject').flatMap(resourcesOf).sort()).toEqual(
          objects(access.write),
        );
        expect(granting(statements, 's3:DeleteObject').flatMap(resourcesOf).sort()).toEqual(
          objects(access.delete),
        );
        expect(granting(statements, 's3:ListBucket').flatMap(resourcesOf)).toEqual([`<${bucket}.Arn>`]);
        expect(granting(statements, 'bedrock:InvokeModel').length > 0).toBe(task === 'InvokeOnDemand');
      },
    );
  });

  describe('WHEN the alarms are synthesized', () => {
    it('THEN failed, timed-out or aborted executions of either machine raise an alarm on the topic', () => {
      for (const machine of [s.stack.ingest, s.stack.batch]) {
        s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmActions: [{ Ref: logicalId(s.stack, s.stack.alarmTopic) }],
          Metrics: Match.arrayWith([
            Match.objectLike({
              MetricStat: Match.objectLike({
                Metric: {
                  Namespace: 'AWS/States',
                  MetricName: 'ExecutionsFailed',
                  Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(s.stack, machine) } }],
                },
              }),
            }),
          ]),
        });
      }
    });

    it('THEN the per-run RejectedDocuments EMF metric has an alarm', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Docbatch',
        MetricName: 'RejectedDocuments',
        Dimensions: [{ Name: 'service', Value: 'docbatch' }],
        Statistic: 'Maximum',
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('THEN Bedrock batch jobs that fail or expire are announced on the topic and counted by an alarm', () => {
      s.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.bedrock'],
          'detail-type': ['Batch Inference Job State Change'],
          detail: { status: ['Failed', 'Expired'] },
        },
        Targets: [Match.objectLike({ Arn: { Ref: logicalId(s.stack, s.stack.alarmTopic) } })],
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Events',
        MetricName: 'TriggeredRules',
      });
    });

    it('THEN undelivered trigger events in the dead-letter queue raise an alarm', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.triggerDeadLetterQueue), 'QueueName'] },
          },
        ],
      });
    });
  });

  describe('WHEN the outputs are synthesized', () => {
    it('THEN the bucket and both state machines are outputs the CLI reads', () => {
      const outputs = s.template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
      expect(outputs['BucketName']?.Value).toEqual({ Ref: bucket });
      expect(outputs['IngestStateMachineArn']?.Value).toEqual({ Ref: logicalId(s.stack, s.stack.ingest) });
      expect(outputs['BatchStateMachineArn']?.Value).toEqual({ Ref: logicalId(s.stack, s.stack.batch) });
    });
  });
});

describe('GIVEN context for the model, schedule, time zone, quotas, timeout and bucket name', () => {
  let custom: Synthesized;
  beforeAll(() => {
    custom = synth({
      modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      schedule: 'cron(30 1 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      quotas: '{"maxConcurrentJobs": 3, "minRecordsPerJob": 1000}',
      batchTimeoutHours: '48',
      bucketName: 'acme-docbatch',
    });
  });

  it('THEN the schedule runs in that time zone', () => {
    custom.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });

  it('THEN the bucket has that name', () => {
    custom.template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-docbatch' });
  });

  it('THEN a foundation model (no inference profile) is granted in this region only', () => {
    const statements = statementsOfRole(
      custom.template,
      logicalId(custom.stack, custom.stack.bedrockBatchRole),
    );
    expect(granting(statements, 'bedrock:InvokeModel').flatMap(resourcesOf)).toEqual([
      'arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
    ]);
  });

  it('THEN the functions plan jobs with those quotas and that timeout', () => {
    const env = (
      resource(custom.template, logicalId(custom.stack, custom.stack.functions.Assemble))['Properties'] as {
        Environment: { Variables: Record<string, string> };
      }
    ).Environment.Variables;
    const config = configFromEnv(env);
    expect(config.model.id).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(config.quotas).toMatchObject({ maxConcurrentJobs: 3, minRecordsPerJob: 1000 });
    expect(config.batch.timeoutHours).toBe(48);
  });
});
