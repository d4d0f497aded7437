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
import { indexOfBytes } from './bytes.ts';
import { isIdUnit } from './record-ids.ts';

const PREFIX = '{"recordId":"';
const ID_END = PREFIX.length + 11;
const DOC_PREFIX = '","docId":"';

/**
 * Whether a line opens with `{"recordId":"` and eleven letters or digits (what follows them is the
 * caller's to check): a recordId with no escape that could make JSON.parse read it otherwise.
 */
function opensWithRecordId(line: string): boolean {
  if (!line.startsWith(PREFIX)) return false;
  for (let i = PREFIX.length; i < ID_END; i++) if (!isIdUnit(line.charCodeAt(i))) return false;
  return true;
}

/** The recordId of an output line (`{"recordId":"…","modelInput":…}`) when it is certain. */
export function leadingRecordId(line: string): string | undefined {
  if (!opensWithRecordId(line) || line.charCodeAt(ID_END) !== 34) return undefined;
  if (line.includes('"recordId"', ID_END) || line.includes('\\u')) return undefined;
  return line.slice(PREFIX.length, ID_END);
}

const ENCODER = new TextEncoder();
const PREFIX_BYTES = ENCODER.encode(PREFIX);
const RECORD_ID_KEY = ENCODER.encode('"recordId"');
const BACKSLASH = 92;
const LETTER_U = 117;
const LETTER_I = 73;
/** Where the `I` is in `"recordId"`. */
const I_AT = 7;

/**
 * `leadingRecordId` for the lines of a byte run, read in order, without decoding them: where in
 * the run the recordId is, when certain. A UTF-8 line holds an ASCII character exactly where its
 * text does, so the answer is `leadingRecordId`'s for the decoded line. The next `\` and `I` of the
 * run are remembered across lines: most lines hold neither past their recordId, and each search
 * then serves many lines.
 */
export class LeadingRecordIds {
  #bytes: Uint8Array | undefined;
  #start = -1;
  /** The first `\` and `I` at or after where the last line's searches began (the run's end for none). */
  #backslash = -1;
  #letterI = -1;

  /** The offset of the recordId of the line `bytes[start, end)`, or −1 when it is not certain. */
  at(bytes: Uint8Array, start: number, end: number): number {
    if (end - start <= ID_END || !opensWithRecordIdAt(bytes, start) || bytes[start + ID_END] !== 34)
      return -1;
    if (bytes !== this.#bytes || start < this.#start) {
      this.#bytes = bytes;
      this.#backslash = -1;
      this.#letterI = -1;
    }
    this.#start = start;
    // No `\u` anywhere in the line.
    let b = this.#backslash < start ? find(bytes, BACKSLASH, start) : this.#backslash;
    while (b < end && bytes[b + 1] !== LETTER_U) b = find(bytes, BACKSLASH, b + 1);
    this.#backslash = b;
    if (b < end) return -1;
    // No `"recordId"` from the end of the recordId on: its `I`, the rarest of its bytes in model
    // output, is searched for (`indexOfBytes` finds a byte fast, a byte sequence slowly).
    const from = start + ID_END + I_AT;
    let i = this.#letterI < from ? find(bytes, LETTER_I, from) : this.#letterI;
    while (i < end && !isRecordIdKey(bytes, i - I_AT)) i = find(bytes, LETTER_I, i + 1);
    this.#letterI = i;
    if (i < end) return -1;
    return start + PREFIX.length;
  }
}

/** `opensWithRecordId` for the line at `start` of `bytes` (whose end is at least ID_END further). */
function opensWithRecordIdAt(bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < PREFIX.length; i++) if (bytes[start + i] !== PREFIX_BYTES[i]) return false;
  for (let i = PREFIX.length; i < ID_END; i++) if (!isIdUnit(bytes[start + i] as number)) return false;
  return true;
}

function isRecordIdKey(bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < RECORD_ID_KEY.length; k++) if (bytes[at + k] !== RECORD_ID_KEY[k]) return false;
  return true;
}

function find(bytes: Uint8Array, byte: number, from: number): number {
  const at = indexOfBytes(bytes, byte, from);
  return at < 0 ? bytes.length : at;
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
  /**
   * Where the recordId of the line `next` read last is in its bytes (eleven ASCII letters or
   * digits), or −1 when it is the entry's own (a line read in full).
   */
  recordIdAt = -1;
  /** The chunk of the line `next` read last. */
  chunk = 0;
  #template: IndexEntry | undefined;
  /** The template line's bytes between its recordId and its chunk's digits: `","docId":…,"chunk":`. */
  #middle = new Uint8Array();
  /** The template line's bytes after its chunk's digits. */
  #tail = new Uint8Array();
  readonly #decoder = new TextDecoder();

  /**
   * The entry of the line `bytes[start, end)`, shared with its twins: its own recordId and chunk
   * are `recordIdAt` and `chunk`. Only a line that is not a twin is decoded.
   */
  next(bytes: Uint8Array, start: number, end: number): IndexEntry {
    const template = this.#template;
    if (template && this.#twin(bytes, start, end)) return template;
    const line = this.#decoder.decode(bytes.subarray(start, end));
    const entry = JSON.parse(line) as IndexEntry;
    this.#learn(line, entry);
    this.recordIdAt = -1;
    this.chunk = entry?.chunk;
    return entry;
  }

  /** Whether the line is the template's twin; if so, its recordId and chunk are taken. */
  #twin(bytes: Uint8Array, start: number, end: number): boolean {
    const middle = this.#middle;
    const tail = this.#tail;
    const from = start + ID_END;
    if (end - from < middle.length + tail.length || !opensWithRecordIdAt(bytes, start)) return false;
    for (let i = 0; i < middle.length; i++) if (bytes[from + i] !== middle[i]) return false;
    const digits = from + middle.length;
    const stop = end - tail.length;
    let chunk = 0;
    let i = digits;
    for (; i < stop; i++) {
      const c = bytes[i] as number;
      if (c < 48 || c > 57) return false;
      chunk = chunk * 10 + (c - 48);
    }
    const n = stop - digits;
    if (n === 0 || n > 9 || (n > 1 && bytes[digits] === 48)) return false;
    for (let k = 0; k < tail.length; k++) if (bytes[stop + k] !== tail[k]) return false;
    this.recordIdAt = start + PREFIX.length;
    this.chunk = chunk;
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
    this.#middle = ENCODER.encode(middle);
    this.#tail = ENCODER.encode(tail);
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
