import {
  GetDocumentAnalysisCommand,
  type GetDocumentAnalysisCommandOutput,
  GetDocumentTextDetectionCommand,
  type GetDocumentTextDetectionCommandOutput,
  type TextractClient,
} from '@aws-sdk/client-textract';
import type { Block } from '../../core/ocr/textract.ts';
import { DocumentRejectedError } from '../../errors.ts';
import { surfaceTransient } from './errors.ts';

export type TextractJobKind = 'text-detection' | 'analysis';

/**
 * Reads a finished asynchronous Textract job's blocks through the Get API, following NextToken
 * (the JS SDK has no paginator for these calls). The ingest machine normally reads the
 * OutputConfig objects instead; this is the path for jobs started without OutputConfig and for
 * tools that inspect a job by id.
 */
export class TextractResults {
  readonly #client: TextractClient;

  constructor(client: TextractClient) {
    this.#client = client;
  }

  async blocks(
    jobId: string,
    kind: TextractJobKind = 'text-detection',
  ): Promise<{ blocks: Block[]; pages: number }> {
    const blocks: Block[] = [];
    let pages = 0;
    let nextToken: string | undefined;
    do {
      const request = { JobId: jobId, MaxResults: 1000, ...(nextToken ? { NextToken: nextToken } : {}) };
      let out: GetDocumentTextDetectionCommandOutput | GetDocumentAnalysisCommandOutput;
      try {
        out = await this.#client.send(
          kind === 'analysis'
            ? new GetDocumentAnalysisCommand(request)
            : new GetDocumentTextDetectionCommand(request),
        );
      } catch (error) {
        surfaceTransient(
          kind === 'analysis' ? 'Textract GetDocumentAnalysis' : 'Textract GetDocumentTextDetection',
          error,
        );
      }
      if (out.JobStatus === 'FAILED') {
        throw new DocumentRejectedError([
          { code: 'TEXTRACT_FAILED', message: out.StatusMessage ?? `Textract job ${jobId} FAILED` },
        ]);
      }
      if (out.JobStatus !== 'SUCCEEDED' && out.JobStatus !== 'PARTIAL_SUCCESS') {
        throw new RangeError(
          `Textract job ${jobId} is ${out.JobStatus ?? 'in an unknown state'}; read its blocks once it has SUCCEEDED`,
        );
      }
      pages = out.DocumentMetadata?.Pages ?? pages;
      for (const block of out.Blocks ?? []) blocks.push(block as Block);
      nextToken = out.NextToken;
    } while (nextToken);
    return { blocks, pages };
  }
}
