/**
 * docbatch in AWS: the bucket, one Lambda per Task state, the two state machines built from the very
 * ASL files the CLI runs offline, their triggers (S3 → EventBridge → ingest; Scheduler → batch),
 * the Bedrock batch service role, alarms. Every grant is written out, prefix by prefix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Aws,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  aws_events as events,
  aws_events_targets as eventsTargets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_scheduler as scheduler,
  aws_scheduler_targets as schedulerTargets,
  aws_stepfunctions as sfn,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_sns_subscriptions as subscriptions,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import { STACK_OUTPUTS } from '../src/adapters/aws/stack-outputs.ts';
import { HANDLER_ENTRIES, NEEDS_MUPDF } from '../src/handlers/index.ts';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../src/handlers/observability.ts';
import { COLLECT_NODE_OPTIONS } from '../src/tasks/batch.ts';
import type { TaskName } from '../src/tasks/index.ts';
import { type DocbatchSettings, functionEnvironment, modelResourceArns } from './config.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const STATEMACHINE_FILES = {
  ingest: join(PROJECT_ROOT, 'statemachine/ingest.asl.json'),
  batch: join(PROJECT_ROOT, 'statemachine/batch.asl.json'),
} as const;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The `${Placeholders}` of an ASL file, sorted. */
export function placeholdersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))].sort();
}

/** Which tasks each state machine invokes, and so may invoke (read from its placeholders). */
function tasksOf(file: string): TaskName[] {
  return placeholdersOf(file)
    .filter((p) => p.endsWith('FunctionArn'))
    .map((p) => p.slice(0, -'FunctionArn'.length) as TaskName);
}

/** Every state of a definition, including those inside Map item processors and Parallel branches. */
function statesOf(machine: { States?: Record<string, Record<string, unknown>> }): Record<string, unknown>[] {
  return Object.values(machine.States ?? {}).flatMap((state) => [
    state,
    ...[state['ItemProcessor'], state['Iterator'], ...((state['Branches'] as unknown[] | undefined) ?? [])]
      .filter(
        (sub): sub is { States: Record<string, Record<string, unknown>> } => !!sub && typeof sub === 'object',
      )
      .flatMap(statesOf),
  ]);
}

const SDK_INTEGRATION = 'arn:aws:states:::aws-sdk:';

/**
 * The IAM actions of the AWS SDK integrations a definition calls, e.g.
 * `arn:aws:states:::aws-sdk:textract:startDocumentTextDetection` → `textract:StartDocumentTextDetection`.
 * Grants follow the ASL file, so a state added there is granted (or fails the synth) here.
 */
export function sdkActionsOf(file: string): string[] {
  const actions = statesOf(JSON.parse(readFileSync(file, 'utf8')))
    .map((state) => state['Resource'])
    .filter((r): r is string => typeof r === 'string' && r.startsWith(SDK_INTEGRATION))
    .map((r) => {
      const [service = '', action = ''] = r.slice(SDK_INTEGRATION.length).split(':');
      return `${service}:${action.charAt(0).toUpperCase()}${action.slice(1)}`;
    });
  return [...new Set(actions)].sort();
}

/** Memory and timeout per task: the ones that hold a whole document (hash, mupdf) get more. */
const SIZING: Record<TaskName, { memoryMb: number; timeoutSeconds: number }> = {
  Register: { memoryMb: 3008, timeoutSeconds: 900 },
  ExtractTextLayer: { memoryMb: 3008, timeoutSeconds: 900 },
  Chunk: { memoryMb: 1024, timeoutSeconds: 300 },
  Quarantine: { memoryMb: 1024, timeoutSeconds: 300 },
  Assemble: { memoryMb: 1024, timeoutSeconds: 900 },
  InvokeOnDemand: { memoryMb: 1024, timeoutSeconds: 900 },
  Collect: { memoryMb: 2048, timeoutSeconds: 900 },
  Release: { memoryMb: 512, timeoutSeconds: 900 },
  Report: { memoryMb: 512, timeoutSeconds: 120 },
};

/** Node options beyond the common ones, per task. */
const NODE_OPTIONS: Partial<Record<TaskName, string>> = {
  Collect: COLLECT_NODE_OPTIONS.join(' '),
};

/**
 * Bucket prefixes each task reads, writes and deletes (see the bucket layout in the README). Every
 * function also reads `schemas/`, where users keep their own document types.
 */
export const S3_ACCESS: Record<TaskName, { read: string[]; write: string[]; delete: string[] }> = {
  // Register and Quarantine add a late key to an outcome's `sources` (the same bytes under a new name).
  Register: {
    read: ['incoming/', 'documents/', 'results/', 'rejected/'],
    write: ['documents/', 'results/', 'rejected/'],
    delete: [],
  },
  ExtractTextLayer: { read: ['incoming/'], write: ['ocr/'], delete: [] },
  Chunk: { read: ['ocr/', 'documents/'], write: ['staged/', 'documents/'], delete: [] },
  Quarantine: {
    read: ['incoming/', 'documents/', 'results/', 'rejected/'],
    write: ['rejected/', 'documents/', 'results/'],
    delete: [],
  },
  Assemble: {
    read: ['staged/', 'claims/', 'documents/', 'runs/'],
    write: ['claims/', 'runs/', 'documents/'],
    delete: ['claims/'],
  },
  InvokeOnDemand: { read: ['runs/'], write: ['runs/'], delete: [] },
  // Collect re-stages a document for a re-drive (reads and rewrites staged/).
  Collect: {
    read: ['runs/', 'staged/'],
    // runs/: the attempt's collect.json summary, decided.jsonl, and the collect-tmp/ partition
    // segments it removes.
    write: ['results/', 'rejected/', 'staged/', 'runs/'],
    delete: ['runs/'],
  },
  // Release adds to an outcome the keys its document arrived under while the run went on.
  Release: {
    read: ['runs/', 'documents/', 'results/', 'rejected/'],
    write: ['documents/', 'results/', 'rejected/'],
    delete: ['staged/', 'claims/'],
  },
  // The report reads this run's documents (pages, text-layer pages) and rejections (reasons).
  Report: { read: ['runs/', 'documents/', 'rejected/'], write: ['reports/'], delete: [] },
};

/**
 * Acknowledges cdk-nag findings (cdk-nag 3 uses CDK's own Validations: one acknowledgment per
 * finding, `Rule[Finding]`, each with the reason it is acceptable here).
 */
function acknowledge(scope: IConstruct, reason: string, ids: readonly string[]): void {
  Validations.of(scope).acknowledge(...[...new Set(ids)].map((id) => ({ id, reason })));
}

/** How cdk-nag spells a wildcard resource in a finding id. */
const wildcardFinding = (resource: string) => `AwsSolutions-IAM5[Resource::${resource}]`;

export interface DocbatchStackProps extends StackProps {
  settings: DocbatchSettings;
}

export class DocbatchStack extends Stack {
  readonly settings: DocbatchSettings;
  readonly bucket: s3.Bucket;
  readonly functions: Record<TaskName, nodejs.NodejsFunction>;
  readonly ingest: sfn.StateMachine;
  readonly batch: sfn.StateMachine;
  readonly bedrockBatchRole: iam.Role;
  readonly alarmTopic: sns.Topic;
  readonly triggerDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DocbatchStackProps) {
    super(scope, id, props);
    // Access logs are delivered under a bucket policy, not the legacy LogDeliveryWrite ACL, so
    // both buckets keep ACLs disabled. Set here so the stack does not depend on cdk.json.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { settings } = props;
    this.settings = settings;
    const { config } = settings;
    const where = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };
    const modelArns = [...modelResourceArns(config.model.id, where), ...settings.modelArns];

    // ---------------------------------------------------------------- storage
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(settings.bucketName ? { bucketName: settings.bucketName } : {}),
      // SSE-S3: Textract and Bedrock batch read and write it with no key policy to maintain.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // CDK's IBucket declares optional members without `| undefined`, which exactOptionalPropertyTypes rejects.
      serverAccessLogsBucket: accessLogs as s3.IBucket,
      serverAccessLogsPrefix: 'docbatch/',
      lifecycleRules: [
        { id: 'expire-runs', prefix: 'runs/', expiration: Duration.days(settings.runsRetentionDays) },
        { id: 'expire-ocr', prefix: 'ocr/', expiration: Duration.days(settings.ocrRetentionDays) },
        {
          id: 'noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(settings.noncurrentRetentionDays),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // `eventBridgeEnabled: true` would add a custom-resource Lambda to set the notification; the
    // bucket's own CloudFormation property does the same with nothing extra to run or patch.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const objects = (prefix: string) => this.bucket.arnForObjects(`${prefix}*`);
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const objectsFinding = (prefix: string) => wildcardFinding(`<${bucketId}.Arn>/${prefix}*`);
    const nagWhere = { partition: '<AWS::Partition>', region: '<AWS::Region>', account: '<AWS::AccountId>' };
    const modelFindings = [...modelResourceArns(config.model.id, nagWhere), ...settings.modelArns]
      .filter((arn) => arn.includes('*'))
      .map(wildcardFinding);
    const modelReason =
      "A cross-region inference profile routes each request to its foundation model in any of the profile's regions, so the foundation model is granted in every region.";

    // ------------------------------------------------ Bedrock batch service role
    this.bedrockBatchRole = new iam.Role(this, 'BedrockBatchRole', {
      description: 'Assumed by Amazon Bedrock to run docbatch batch inference jobs',
      assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:model-invocation-job/*`,
          },
        },
      }),
    });
    this.bedrockBatchRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBatchInputs',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('runs/*/input/*')],
        conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.bedrockBatchRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListBatchInputs',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: {
          StringLike: { 's3:prefix': ['runs/*/input/*'] },
          StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    this.bedrockBatchRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBatchOutputs',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('runs/*/output/*')],
        conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.bedrockBatchRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeConfiguredModel',
        actions: ['bedrock:InvokeModel'],
        resources: modelArns,
      }),
    );
    acknowledge(
      this.bedrockBatchRole,
      "Bedrock reads a run's inputs and writes its outputs under runs/<runId>/[attempt-N/]input|output/, where the run id is only known at run time.",
      [objectsFinding('runs/*/input/'), objectsFinding('runs/*/output/')],
    );
    acknowledge(this.bedrockBatchRole, modelReason, modelFindings);

    // ---------------------------------------------------------------- functions
    const environment = {
      DOCBATCH_BUCKET: this.bucket.bucketName,
      ...functionEnvironment(config),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const functions: Partial<Record<TaskName, nodejs.NodejsFunction>> = {};
    for (const [task, entry] of Object.entries(HANDLER_ENTRIES) as [TaskName, string][]) {
      const fn = new nodejs.NodejsFunction(this, `${task}Function`, {
        description: `docbatch ${task} task`,
        entry: join(PROJECT_ROOT, 'src/handlers', entry),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: SIZING[task].memoryMb,
        timeout: Duration.seconds(SIZING[task].timeoutSeconds),
        tracing: lambda.Tracing.ACTIVE,
        environment: {
          ...environment,
          NODE_OPTIONS: [environment.NODE_OPTIONS, NODE_OPTIONS[task]].filter(Boolean).join(' '),
        },
        logGroup: new logs.LogGroup(this, `${task}Logs`, {
          retention: logs.RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: 'node24',
          mainFields: ['module', 'main'],
          minify: true,
          sourceMap: true,
          sourcesContent: false,
          // Bundled CommonJS dependencies call require(); an ES module has to provide it.
          banner:
            "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
          // The SDK is bundled, not taken from the runtime: the versions tested are the ones deployed.
          externalModules: [],
          // mupdf loads a .wasm file next to its module: installed as a node module, not bundled.
          ...(NEEDS_MUPDF.has(task) ? { nodeModules: ['mupdf'] } : {}),
        },
      });
      const access = S3_ACCESS[task];
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadObjects',
          actions: ['s3:GetObject'],
          resources: [...access.read, 'schemas/'].map(objects),
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'WriteObjects',
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: access.write.map(objects),
        }),
      );
      if (access.delete.length > 0) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'DeleteObjects',
            actions: ['s3:DeleteObject'],
            resources: access.delete.map(objects),
          }),
        );
      }
      // ListBucket reveals key names only. It is unconditional because without it S3 answers a
      // HEAD of a missing key with 403 instead of 404, and "is it there yet?" is how tasks stay
      // idempotent.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListKeys',
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
        }),
      );
      if (task === 'InvokeOnDemand') {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'InvokeConfiguredModel',
            actions: ['bedrock:InvokeModel'],
            resources: modelArns,
          }),
        );
      }
      acknowledge(
        fn,
        'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs, which every Lambda needs.',
        [
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ],
      );
      acknowledge(
        fn,
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
        [wildcardFinding('*')],
      );
      acknowledge(
        fn,
        'Objects are granted by bucket prefix, one prefix per kind of object (see the bucket layout); their keys are named by content hash or run id at run time.',
        [...access.read, ...access.write, ...access.delete, 'schemas/'].map(objectsFinding),
      );
      if (task === 'InvokeOnDemand') acknowledge(fn, modelReason, modelFindings);
      functions[task] = fn;
    }
    this.functions = functions as Record<TaskName, nodejs.NodejsFunction>;

    // ---------------------------------------------------------- state machines
    const invokeStatement = (tasks: TaskName[]) =>
      new iam.PolicyStatement({
        sid: 'InvokeTaskFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: tasks.map((t) => this.functions[t].functionArn),
      });

    const ingestRole = new iam.Role(this, 'IngestStateMachineRole', {
      description: 'docbatch ingest state machine',
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    ingestRole.addToPrincipalPolicy(invokeStatement(tasksOf(STATEMACHINE_FILES.ingest)));
    const jobs = `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:model-invocation-job/*`;
    /** The resources each SDK integration may touch; an integration not listed here fails the synth. */
    const integrationResources = (action: string, file: string): string[] => {
      // Textract has no resource-level permissions for its asynchronous jobs.
      if (action.startsWith('textract:')) return ['*'];
      if (action === 'bedrock:CreateModelInvocationJob') return [jobs, ...modelArns];
      if (action.startsWith('bedrock:') && action.endsWith('ModelInvocationJob')) return [jobs];
      throw new Error(
        `${file} calls ${action}, which infra/stack.ts does not know how to grant. Fix: add its resources to integrationResources in infra/stack.ts.`,
      );
    };
    const grantIntegrations = (role: iam.Role, file: string) => {
      const byResources = new Map<string, { actions: string[]; resources: string[] }>();
      const actions = sdkActionsOf(file);
      // CreateModelInvocationJob tags each job with its runId, which IAM authorises separately.
      if (actions.includes('bedrock:CreateModelInvocationJob')) actions.push('bedrock:TagResource');
      for (const action of actions) {
        const resources = action === 'bedrock:TagResource' ? [jobs] : integrationResources(action, file);
        const key = resources.join(' ');
        const entry = byResources.get(key) ?? { actions: [], resources };
        entry.actions.push(action);
        byResources.set(key, entry);
      }
      for (const { actions: a, resources } of byResources.values())
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: a, resources }));
    };
    grantIntegrations(ingestRole, STATEMACHINE_FILES.ingest);
    // Textract reads the upload and writes its OutputConfig pages with the caller's credentials.
    ingestRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TextractReadsUploads',
        actions: ['s3:GetObject'],
        resources: [objects('incoming/')],
      }),
    );
    ingestRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TextractWritesOcrOutput',
        actions: ['s3:PutObject'],
        resources: [objects('ocr/')],
      }),
    );

    const batchRole = new iam.Role(this, 'BatchStateMachineRole', {
      description: 'docbatch batch state machine',
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    batchRole.addToPrincipalPolicy(invokeStatement(tasksOf(STATEMACHINE_FILES.batch)));
    grantIntegrations(batchRole, STATEMACHINE_FILES.batch);
    batchRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassBedrockBatchRole',
        actions: ['iam:PassRole'],
        resources: [this.bedrockBatchRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      }),
    );

    const substitutions = (file: string): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const p of placeholdersOf(file)) {
        const task = p.endsWith('FunctionArn') ? (p.slice(0, -'FunctionArn'.length) as TaskName) : undefined;
        if (task && this.functions[task]) out[p] = this.functions[task].functionArn;
        else if (p === 'BedrockBatchRoleArn') out[p] = this.bedrockBatchRole.roleArn;
        else {
          throw new Error(
            `${file} uses \${${p}}, which the stack cannot substitute; known: <Task>FunctionArn for tasks ${Object.keys(this.functions).join(', ')}, and BedrockBatchRoleArn. Add a task to src/tasks/index.ts (and a handler) or a substitution in infra/stack.ts.`,
          );
        }
      }
      return out;
    };

    const machine = (name: 'ingest' | 'batch', role: iam.Role, comment: string) => {
      const logGroup = new logs.LogGroup(this, `${name === 'ingest' ? 'Ingest' : 'Batch'}StateMachineLogs`, {
        // The vendedlogs prefix keeps Step Functions' log delivery within the resource-policy size limit.
        logGroupName: `/aws/vendedlogs/states/${this.stackName}-${name}`,
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      return new sfn.StateMachine(this, `${name === 'ingest' ? 'Ingest' : 'Batch'}StateMachine`, {
        comment,
        definitionBody: sfn.DefinitionBody.fromFile(STATEMACHINE_FILES[name]),
        definitionSubstitutions: substitutions(STATEMACHINE_FILES[name]),
        stateMachineType: sfn.StateMachineType.STANDARD,
        role,
        tracingEnabled: true,
        // Every state transition is logged, without inputs and outputs: document text and
        // extracted values never reach CloudWatch Logs (the execution history still has them).
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      });
    };
    this.ingest = machine('ingest', ingestRole, 'docbatch ingest: one execution per upload');
    this.batch = machine('batch', batchRole, 'docbatch batch: one execution per night');
    for (const role of [ingestRole, batchRole]) {
      acknowledge(
        role,
        'Textract text detection and the CloudWatch Logs delivery and X-Ray actions Step Functions needs for logging and tracing support no resource-level permissions.',
        [wildcardFinding('*')],
      );
    }
    acknowledge(
      ingestRole,
      "Textract reads the upload under incoming/ and writes its OutputConfig pages under ocr/<docId>/ with the caller's credentials; the keys are only known at run time.",
      [objectsFinding('incoming/'), objectsFinding('ocr/')],
    );
    acknowledge(
      batchRole,
      "A Bedrock batch job gets its id when it is created, so polling and stopping jobs can only name the account's model-invocation-job ARNs.",
      [wildcardFinding('arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:model-invocation-job/*')],
    );
    acknowledge(batchRole, modelReason, modelFindings);

    // ---------------------------------------------------------------- triggers
    this.triggerDeadLetterQueue = new sqs.Queue(this, 'TriggerDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.triggerDeadLetterQueue,
      'This queue is itself the dead-letter queue of the upload rule and the nightly schedule; an alarm watches its depth.',
      ['AwsSolutions-SQS3'],
    );

    const eventsRole = new iam.Role(this, 'IngestTriggerRole', {
      description: 'EventBridge starts one docbatch ingest execution per upload',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    new events.Rule(this, 'IngestOnUpload', {
      description: 'docbatch: an object created under incoming/ starts one ingest execution',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          object: { key: events.Match.prefix('incoming/') },
        },
      },
      targets: [
        new eventsTargets.SfnStateMachine(this.ingest, {
          role: eventsRole,
          deadLetterQueue: this.triggerDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const schedulerRole = new iam.Role(this, 'BatchScheduleRole', {
      description: 'EventBridge Scheduler starts the nightly docbatch batch execution',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    new scheduler.Schedule(this, 'NightlyBatch', {
      description: 'docbatch: pack everything staged into Bedrock batch jobs',
      schedule: scheduler.ScheduleExpression.expression(
        config.schedule.expression,
        TimeZone.of(config.schedule.timezone),
      ),
      target: new schedulerTargets.StepFunctionsStartExecution(this.batch, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        deadLetterQueue: this.triggerDeadLetterQueue,
        retryAttempts: 10,
        maxEventAge: Duration.hours(6),
      }),
    });

    // ------------------------------------------------------------------ alarms
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'docbatch alarms',
      enforceSSL: true,
    });
    if (settings.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);

    const failures = (m: sfn.StateMachine, period: Duration) =>
      new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: m.metricFailed({ period }),
          timedOut: m.metricTimedOut({ period }),
          aborted: m.metricAborted({ period }),
        },
        period,
      });
    new cloudwatch.Alarm(this, 'BatchExecutionsFailedAlarm', {
      alarmDescription:
        'A nightly docbatch batch execution failed, timed out or was aborted: staged documents got no outcome. Open the execution in the Step Functions console.',
      metric: failures(this.batch, Duration.minutes(5)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);
    new cloudwatch.Alarm(this, 'IngestExecutionsFailedAlarm', {
      alarmDescription:
        'Many docbatch ingest executions failed within an hour. Each rejected upload ends its execution in the Rejected Fail state on purpose, so a few are normal; a spike means bad uploads or a broken dependency (look for QuarantineFailed).',
      metric: failures(this.ingest, Duration.hours(1)),
      threshold: settings.ingestFailuresAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);
    new cloudwatch.Alarm(this, 'RejectedDocumentsAlarm', {
      alarmDescription: `A docbatch batch run rejected ${settings.rejectedDocumentsAlarmThreshold} or more documents (see rejected/<docId>.json and reports/<runId>.json).`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.rejectedDocuments,
        // Powertools Metrics always adds the service dimension.
        dimensionsMap: { service: SERVICE_NAME },
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      threshold: settings.rejectedDocumentsAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);
    new cloudwatch.Alarm(this, 'TriggerDeadLettersAlarm', {
      alarmDescription:
        'An upload event or a nightly schedule could not start its execution (see the trigger dead-letter queue).',
      metric: this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    // Bedrock reports job state changes on the default bus (best effort): Failed and Expired jobs
    // are worth a message naming the job; the alarm shows the same in the CloudWatch console.
    const jobEnded = new events.Rule(this, 'BatchJobFailedOrExpired', {
      description: 'docbatch: a Bedrock batch inference job failed or expired',
      eventPattern: {
        source: ['aws.bedrock'],
        detailType: ['Batch Inference Job State Change'],
        detail: { status: ['Failed', 'Expired'] },
      },
      targets: [
        new eventsTargets.SnsTopic(this.alarmTopic, {
          message: events.RuleTargetInput.fromText(
            `Bedrock batch job ${events.EventField.fromPath('$.detail.batchJobArn')} ended ${events.EventField.fromPath('$.detail.status')}.`,
          ),
        }),
      ],
    });
    new cloudwatch.Alarm(this, 'BatchJobsFailedOrExpiredAlarm', {
      alarmDescription: 'A Bedrock batch inference job failed or expired (the alarm topic has its ARN).',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: jobEnded.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // ----------------------------------------------------------------- outputs
    new CfnOutput(this, STACK_OUTPUTS.bucket, {
      value: this.bucket.bucketName,
      description: 'Upload documents to incoming/<type>/ in this bucket',
    });
    new CfnOutput(this, STACK_OUTPUTS.ingestStateMachine, { value: this.ingest.stateMachineArn });
    new CfnOutput(this, STACK_OUTPUTS.batchStateMachine, { value: this.batch.stateMachineArn });
    new CfnOutput(this, STACK_OUTPUTS.alarmTopic, { value: this.alarmTopic.topicArn });
  }
}
