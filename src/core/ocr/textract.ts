/**
 * The slice of the Textract response model docbatch reads and writes. Field names follow the
 * API exactly (PascalCase) so that real responses, the local stand-in's output and the SDK's
 * `Block` type are interchangeable. Everything is optional because real responses omit fields
 * freely (no Geometry on some blocks, extra fields, `KEY`/`VALUE` block types).
 */

export interface BoundingBox {
  Width?: number;
  Height?: number;
  Left?: number;
  Top?: number;
}

export interface Point {
  X?: number;
  Y?: number;
}

export interface Geometry {
  BoundingBox?: BoundingBox;
  Polygon?: Point[];
}

export interface Relationship {
  Type?: string;
  Ids?: string[];
}

export interface Block {
  BlockType?: string;
  Id?: string;
  Confidence?: number;
  Text?: string;
  TextType?: string;
  RowIndex?: number;
  ColumnIndex?: number;
  RowSpan?: number;
  ColumnSpan?: number;
  Geometry?: Geometry;
  Relationships?: Relationship[];
  EntityTypes?: string[];
  SelectionStatus?: string;
  Page?: number;
}

export type TextractJobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'PARTIAL_SUCCESS';

/** One Get*DocumentTextDetection / Get*DocumentAnalysis response page (≤ 1,000 blocks). */
export interface TextractGetResponse {
  JobStatus?: TextractJobStatus;
  StatusMessage?: string;
  Warnings?: { ErrorCode?: string; Pages?: number[] }[];
  DocumentMetadata?: { Pages?: number };
  Blocks?: Block[];
  NextToken?: string;
  DetectDocumentTextModelVersion?: string;
}

/** Textract returns at most this many blocks per Get call and per OutputConfig object. */
export const TEXTRACT_MAX_BLOCKS_PER_PAGE = 1000;

/** Split a block list into Get-response pages the way Textract's OutputConfig does. */
export function paginateBlocks(
  blocks: readonly Block[],
  pages: number,
  extra: Omit<TextractGetResponse, 'Blocks' | 'NextToken' | 'DocumentMetadata'> = {},
): TextractGetResponse[] {
  const out: TextractGetResponse[] = [];
  for (let i = 0; i < Math.max(blocks.length, 1); i += TEXTRACT_MAX_BLOCKS_PER_PAGE) {
    out.push({
      ...extra,
      DocumentMetadata: { Pages: pages },
      Blocks: blocks.slice(i, i + TEXTRACT_MAX_BLOCKS_PER_PAGE),
    });
  }
  return out;
}
