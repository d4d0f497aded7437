import { existsSync, readFileSync } from 'node:fs';
import {
  GetDocumentAnalysisCommand,
  GetDocumentTextDetectionCommand,
  type GetDocumentTextDetectionCommandOutput,
  ProvisionedThroughputExceededException,
  TextractClient,
} from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TextractResults } from '../../../../src/adapters/aws/textract.ts';
import { linearize } from '../../../../src/core/ocr/linearize.ts';
import type { Block } from '../../../../src/core/ocr/textract.ts';
import { DocumentRejectedError, RetryableError } from '../../../../src/errors.ts';

const CORPUS = new URL('../../../../../shared/corpora/textract/', import.meta.url).pathname;
const MULTIPAGE = `${CORPUS}textractor/multipage-doc/test_textractor_start_document_text_detection.json`;
const PAGED = `${CORPUS}trp/async-json-only/gib.json`;
const hasCorpus = existsSync(MULTIPAGE) && existsSync(PAGED);
if (!hasCorpus)
  console.warn(
    `Textract corpus not found under ${CORPUS}: skipping the real-response cases of TextractResults`,
  );

const textract = mockClient(TextractClient);
afterEach(() => textract.reset());

describe('Function: TextractResults.blocks', () => {
  it.skipIf(!hasCorpus)(
    'pages through NextToken over a real 2-page response split into Get pages',
    async () => {
      // Prepare: the real merged result, served the way GetDocumentTextDetection pages it.
      const whole = JSON.parse(readFileSync(MULTIPAGE, 'utf8')) as {
        Blocks: Block[];
        DocumentMetadata: { Pages: number };
      };
      const size = 50;
      const pages: GetDocumentTextDetectionCommandOutput[] = [];
      for (let i = 0; i < whole.Blocks.length; i += size) {
        const next = i + size < whole.Blocks.length ? `token-${i + size}` : undefined;
        pages.push({
          $metadata: {},
          JobStatus: 'SUCCEEDED',
          DocumentMetadata: whole.DocumentMetadata,
          Blocks: whole.Blocks.slice(i, i + size) as GetDocumentTextDetectionCommandOutput['Blocks'],
          ...(next ? { NextToken: next } : {}),
        });
      }
      textract
        .on(GetDocumentTextDetectionCommand, { JobId: 'job-1', MaxResults: 1000 })
        .resolves(pages[0] ?? {});
      pages.slice(1).forEach((page, i) => {
        textract
          .on(GetDocumentTextDetectionCommand, { JobId: 'job-1', NextToken: `token-${(i + 1) * size}` })
          .resolves(page);
      });
      // Act
      const { blocks, pages: pageCount } = await new TextractResults(new TextractClient({})).blocks('job-1');
      // Assess: every block, in order, and the same text as the merged response.
      expect(textract.commandCalls(GetDocumentTextDetectionCommand)).toHaveLength(pages.length);
      expect(blocks).toHaveLength(whole.Blocks.length);
      expect(blocks.map((b) => b.Id)).toEqual(whole.Blocks.map((b) => b.Id));
      expect(pageCount).toBe(2);
      expect(linearize(blocks)).toBe(linearize(whole.Blocks));
      expect(linearize(blocks)).toContain('--- page 2 ---');
    },
  );

  it.skipIf(!hasCorpus)('follows the real NextToken of a real analysis page to the next page', async () => {
    const page = JSON.parse(readFileSync(PAGED, 'utf8')) as { NextToken: string; Blocks: Block[] };
    expect(page.NextToken.length).toBeGreaterThan(10);
    textract
      .on(GetDocumentAnalysisCommand)
      .callsFake((input: { JobId: string; NextToken?: string }) =>
        input.NextToken === page.NextToken ? { JobStatus: 'SUCCEEDED', Blocks: [] } : page,
      );
    const { blocks } = await new TextractResults(new TextractClient({})).blocks('job-2', 'analysis');
    expect(blocks).toHaveLength(page.Blocks.length);
    expect(textract.commandCalls(GetDocumentAnalysisCommand)[1]?.args[0].input.NextToken).toBe(
      page.NextToken,
    );
  });

  it('refuses a job still IN_PROGRESS and rejects the document of a FAILED job with its message', async () => {
    textract.on(GetDocumentTextDetectionCommand, { JobId: 'running' }).resolves({ JobStatus: 'IN_PROGRESS' });
    textract
      .on(GetDocumentTextDetectionCommand, { JobId: 'failed' })
      .resolves({ JobStatus: 'FAILED', StatusMessage: 'UNSUPPORTED_DOCUMENT' });
    const results = new TextractResults(new TextractClient({}));
    await expect(results.blocks('running')).rejects.toThrow(/IN_PROGRESS/);
    const error = await results.blocks('failed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentRejectedError);
    expect((error as DocumentRejectedError).reasons).toEqual([
      { code: 'TEXTRACT_FAILED', message: 'UNSUPPORTED_DOCUMENT' },
    ]);
  });

  it('surfaces throttling that outlasted the SDK retries as a retryable error', async () => {
    textract.on(GetDocumentTextDetectionCommand).rejects(
      new ProvisionedThroughputExceededException({
        message: 'slow down',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await new TextractResults(new TextractClient({})).blocks('job').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).name).toBe('RetryableError');
  });
});
