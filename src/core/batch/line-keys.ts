/**
 * The one or two fields Collect routes a line by, read without parsing the line when the answer is
 * certain, else undefined (then the caller parses it). Routing reads every output and index line of
 * a run once more than the join does; JSON.parse of a whole line, model input echo included, was
 * most of that pass.
 *
 * Certain means: the field is the line's first key, written as docbatch and Bedrock write it
 * (`{"recordId":"…"`), and no other key in the line can decode to the same name, which would
 * override it in JSON.parse (no second literal `"recordId"`, and no `\u` escape, the only escape
 * that can spell a letter). Whether the rest of the line is valid JSON is left to the join, which
 * parses it anyway and skips it when it is not.
 */

import type { IndexEntry } from '../outcomes.ts';

const PREFIX = '{"recordId":"';
const ID_END = PREFIX.length + 11;
const DOC_PREFIX = '","docId":"';

/**
 * Whether a line opens with `{"recordId":"` and eleven letters or digits (what follows them is the
 * caller's to check): a recordId with no escape that could make JSON.parse read it otherwise.
 */
function opensWithRecordId(line: string): boolean {
  if (!line.startsWith(PREFIX)) return false;
  for (let i = PREFIX.length; i < ID_END; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/** The recordId of an output line (`{"recordId":"…","modelInput":…}`) when it is certain. */
export function leadingRecordId(line: string): string | undefined {
  if (!opensWithRecordId(line) || line.charCodeAt(ID_END) !== 34) return undefined;
  if (line.includes('"recordId"', ID_END) || line.includes('\\u')) return undefined;
  return line.slice(PREFIX.length, ID_END);
}

/** recordId and docId of an index line (`{"recordId":"…","docId":"…",…}`, as Assemble writes it) when certain. */
export function indexLineKeys(line: string): { recordId: string; docId: string } | undefined {
  if (!opensWithRecordId(line) || !line.startsWith(DOC_PREFIX, ID_END)) return undefined;
  const docStart = ID_END + DOC_PREFIX.length;
  const docEnd = line.indexOf('"', docStart);
  if (docEnd < 0) return undefined;
  // A backslash would be an escape inside the docId: let JSON.parse read it.
  if (line.lastIndexOf('\\', docEnd) >= docStart) return undefined;
  if (line.includes('"recordId"', docEnd) || line.includes('"docId"', docEnd) || line.includes('\\u'))
    return undefined;
  return { recordId: line.slice(PREFIX.length, ID_END), docId: line.slice(docStart, docEnd) };
}

const CHUNK_KEY = ',"chunk":';

/**
 * A partition's index entries from their lines, JSON.parse-ing only a line that is not its
 * predecessor's twin. Assemble writes a document's entries one after the other and they differ in
 * recordId and chunk only: `{"recordId":"…","docId":"…","type":"…","chunk":N,` then the same tail.
 * Such a line's entry is the parsed predecessor's with those two values, built without the parse
 * and sharing the predecessor's docId, type and source (nobody mutates an entry). Parsing every
 * line made most of a partition's index garbage at once and its survivors (the docId, source key
 * and digest of every line) a third of what Collect's young-generation collections copied.
 *
 * A twin is exactly what JSON.parse would make of the line: the parsed line's text is checked to
 * be canonical up to the chunk (each value as JSON.stringify writes it, so no quote or brace of it
 * is inside a string), and its tail holds no second `"recordId"` or `"chunk"` key, nor a `\u`
 * escape that could spell one, that would override them.
 */
export class IndexLineReader {
  /** The recordId of the line `next` read last (its entry may be a template shared with others). */
  recordId = '';
  /** The chunk of the line `next` read last. */
  chunk = 0;
  #template: IndexEntry | undefined;
  /** The template line between its recordId and its chunk's digits: `","docId":…,"chunk":`. */
  #middle = '';
  /** The template line after its chunk's digits. */
  #tail = '';

  /**
   * A line's entry, shared with its twins: its own recordId and chunk are `recordId` and `chunk`
   * (for a line read in full, the entry's own).
   */
  next(line: string): IndexEntry {
    const template = this.#template;
    if (template && this.#twin(line)) return template;
    const entry = JSON.parse(line) as IndexEntry;
    this.#learn(line, entry);
    this.recordId = entry?.recordId;
    this.chunk = entry?.chunk;
    return entry;
  }

  /** Whether the line is the template's twin; if so, its recordId and chunk are taken. */
  #twin(line: string): boolean {
    const digits = ID_END + this.#middle.length;
    if (!opensWithRecordId(line) || !line.startsWith(this.#middle, ID_END)) return false;
    const end = digitsEnd(line, digits);
    if (end < 0 || line.length - end !== this.#tail.length || !line.endsWith(this.#tail)) return false;
    this.recordId = line.slice(PREFIX.length, ID_END);
    this.chunk = Number(line.slice(digits, end));
    return true;
  }

  #learn(line: string, entry: IndexEntry): void {
    this.#template = undefined;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.docId !== 'string' ||
      typeof entry.type !== 'string'
    )
      return;
    const middle = `","docId":${JSON.stringify(entry.docId)},"type":${JSON.stringify(entry.type)}${CHUNK_KEY}`;
    if (
      !opensWithRecordId(line) ||
      line.slice(PREFIX.length, ID_END) !== entry.recordId ||
      !line.startsWith(middle, ID_END)
    )
      return;
    const digits = ID_END + middle.length;
    const end = digitsEnd(line, digits);
    if (end < 0 || Number(line.slice(digits, end)) !== entry.chunk) return;
    const tail = line.slice(end);
    if (tail.includes('"recordId"') || tail.includes('"chunk"') || tail.includes('\\u')) return;
    this.#template = entry;
    this.#middle = middle;
    this.#tail = tail;
  }
}

/**
 * The end of the JSON integer at `from` (digits, no sign, no leading zero, at most 9 digits), or
 * −1 when there is none that JSON.parse would read the same way.
 */
function digitsEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && i - from < 10) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  const n = i - from;
  if (n === 0 || n > 9 || (n > 1 && s.charCodeAt(from) === 48)) return -1;
  return i;
}
