import { MupdfReader } from '../adapters/documents/mupdf-reader.ts';
import { makeHandler } from './runtime.ts';

/** Lambda entry point of the `ExtractTextLayer` Task state (bundled with mupdf: it reads the PDF text layer). */
export const handler = makeHandler('ExtractTextLayer', { reader: () => new MupdfReader() });
