/** Attempt 1 lives at the run's root; each re-drive attempt in its own folder beside it. */
function attemptPrefix(runId: string, attempt: number): string {
  return attempt <= 1 ? `runs/${runId}/` : `runs/${runId}/attempt-${attempt}/`;
}

/** The bucket layout, in one place: the same keys in S3 and in the local work directory. */
export const keys = {
  incoming: (type: string, name: string) => `incoming/${type}/${name}`,
  document: (docId: string) => `documents/${docId}.json`,
  ocrPrefix: (docId: string) => `ocr/${docId}/`,
  ocrJobPrefix: (docId: string, jobId: string) => `ocr/${docId}/${jobId}/`,
  stagedPrefix: 'staged/',
  staged: (docId: string) => `staged/${docId}.jsonl`,
  claim: (docId: string) => `claims/${docId}.json`,
  claimsPrefix: 'claims/',
  runsPrefix: 'runs/',
  run: (runId: string) => `runs/${runId}/`,
  attempt: attemptPrefix,
  plan: (runId: string, attempt = 1) => `${attemptPrefix(runId, attempt)}plan.json`,
  collectSummary: (runId: string, attempt = 1) => `${attemptPrefix(runId, attempt)}collect.json`,
  /** The documents an attempt's Collect decided (one JSON line each), for Release to finish. */
  decided: (runId: string, attempt = 1) => `${attemptPrefix(runId, attempt)}decided.jsonl`,
  jobInputPrefix: (runId: string, attempt: number, job: number) =>
    `${attemptPrefix(runId, attempt)}input/job-${job}/`,
  /** Named after its job too: Bedrock names each output file after its input file (`<name>.jsonl.out`). */
  jobInputFile: (runId: string, attempt: number, job: number, part: number) =>
    `${attemptPrefix(runId, attempt)}input/job-${job}/${inputFileName(job, part)}`,
  jobIndex: (runId: string, attempt: number, job: number) =>
    `${attemptPrefix(runId, attempt)}index/job-${job}.jsonl`,
  outputPrefix: (runId: string, attempt = 1) => `${attemptPrefix(runId, attempt)}output/`,
  /** Collect's scratch space (index and output lines partitioned by document); removed when it ends. */
  collectTmpPrefix: (runId: string, attempt = 1) => `${attemptPrefix(runId, attempt)}collect-tmp/`,
  /** One segment of a partition; zero-padded so that listing order is partition order, then write order. */
  collectTmpSegment: (
    runId: string,
    attempt: number,
    kind: 'index' | 'output',
    partition: number,
    segment: number,
  ) =>
    `${attemptPrefix(runId, attempt)}collect-tmp/${kind}-${String(partition).padStart(3, '0')}-${String(segment).padStart(6, '0')}.jsonl`,
  result: (type: string, docId: string) => `results/${type}/${docId}.json`,
  resultsPrefix: 'results/',
  rejected: (docId: string) => `rejected/${docId}.json`,
  report: (runId: string) => `reports/${runId}.json`,
} as const;

function inputFileName(job: number, part: number): string {
  return `job-${job}-part-${part}.jsonl`;
}

/**
 * The job and part of an output file (`<outputPrefix><jobId>/job-<n>-part-<m>.jsonl.out`), from its
 * name; undefined for a name docbatch did not give its input.
 */
export function outputFilePart(key: string): { job: number; part: number } | undefined {
  const m = /\/job-(\d+)-part-(\d+)\.jsonl\.out$/.exec(key);
  return m ? { job: Number(m[1]), part: Number(m[2]) } : undefined;
}

/** `incoming/<type>/<name>` → type, or undefined for keys outside that layout. */
export function typeFromIncomingKey(key: string): string | undefined {
  const m = /^incoming\/([^/]+)\/.+$/.exec(key);
  return m?.[1];
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** `s3://bucket/key` → parts; undefined when not an S3 URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1] ?? '', key: m[2] ?? '' } : undefined;
}

/** Bedrock's jobId is the last path segment of the job ARN. */
export function jobIdFromArn(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}
