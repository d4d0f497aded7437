/** The bucket layout, in one place: the same keys in S3 and in the local work directory. */
export const keys = {
  incoming: (type: string, name: string) => `incoming/${type}/${name}`,
  document: (docId: string) => `documents/${docId}.json`,
  ocrPrefix: (docId: string) => `ocr/${docId}/`,
  ocrJobPrefix: (docId: string, jobId: string) => `ocr/${docId}/${jobId}/`,
  stagedPrefix: 'staged/',
  staged: (docId: string) => `staged/${docId}.jsonl`,
  claim: (docId: string) => `claims/${docId}.json`,
  run: (runId: string) => `runs/${runId}/`,
  plan: (runId: string) => `runs/${runId}/plan.json`,
  jobInputPrefix: (runId: string, job: number) => `runs/${runId}/input/job-${job}/`,
  jobInputFile: (runId: string, job: number, part: number) =>
    `runs/${runId}/input/job-${job}/part-${part}.jsonl`,
  jobIndex: (runId: string, job: number) => `runs/${runId}/index/job-${job}.jsonl`,
  outputPrefix: (runId: string) => `runs/${runId}/output/`,
  result: (type: string, docId: string) => `results/${type}/${docId}.json`,
  resultsPrefix: 'results/',
  rejected: (docId: string) => `rejected/${docId}.json`,
  report: (runId: string) => `reports/${runId}.json`,
} as const;

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
