import type { PageText } from './ocr/linearize.ts';

export interface Chunk {
  /** 0-based position in the document. */
  index: number;
  pageStart: number;
  pageEnd: number;
  text: string;
  tokens: number;
}

/**
 * A cheap, deterministic token estimate (≈ 4 characters per token for English prose and
 * numbers). It sizes chunks and `max_tokens`; the bill uses the model's own counts.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Splits a document into chunks of at most `maxTokens` (estimated), cutting between pages when it
 * can and between lines when a single page is too long. Page markers stay in the text so the model
 * (and a reader of the staged file) knows where each chunk comes from.
 */
export function chunkPages(pages: readonly PageText[], maxTokens: number): Chunk[] {
  const chunks: Chunk[] = [];
  let current: { pageStart: number; pageEnd: number; parts: string[]; tokens: number } | undefined;
  const flush = () => {
    if (current && current.parts.length > 0) {
      const text = current.parts.join('\n');
      chunks.push({
        index: chunks.length,
        pageStart: current.pageStart,
        pageEnd: current.pageEnd,
        text,
        tokens: estimateTokens(text),
      });
    }
    current = undefined;
  };
  for (const page of pages) {
    const marked = `--- page ${page.page} ---\n${page.text}`;
    const tokens = estimateTokens(marked);
    if (tokens > maxTokens) {
      flush();
      // One page over budget: split it by lines, each piece keeping the page marker.
      const emitPiece = (lines: string[], pieceTokens: number) => {
        current = {
          pageStart: page.page,
          pageEnd: page.page,
          parts: [`--- page ${page.page} ---`, ...lines],
          tokens: pieceTokens,
        };
        flush();
      };
      let piece: string[] = [];
      let pieceTokens = 0;
      for (const line of page.text.split('\n')) {
        const lineTokens = estimateTokens(`${line}\n`);
        if (piece.length > 0 && pieceTokens + lineTokens > maxTokens) {
          emitPiece(piece, pieceTokens);
          piece = [];
          pieceTokens = 0;
        }
        piece.push(line);
        pieceTokens += lineTokens;
      }
      emitPiece(piece, pieceTokens);
      continue;
    }
    if (current && current.tokens + tokens > maxTokens) flush();
    if (!current) current = { pageStart: page.page, pageEnd: page.page, parts: [], tokens: 0 };
    current.parts.push(marked);
    current.pageEnd = page.page;
    current.tokens += tokens;
  }
  flush();
  return chunks;
}
