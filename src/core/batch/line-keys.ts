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

const PREFIX = '{"recordId":"';
const ID_END = PREFIX.length + 11;
const DOC_PREFIX = '","docId":"';

function isAlphanumeric(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/** The recordId of an output line (`{"recordId":"…","modelInput":…}`) when it is certain. */
export function leadingRecordId(line: string): string | undefined {
  if (
    !line.startsWith(PREFIX) ||
    line.charCodeAt(ID_END) !== 34 ||
    !isAlphanumeric(line, PREFIX.length, ID_END)
  )
    return undefined;
  if (line.includes('"recordId"', ID_END) || line.includes('\\u')) return undefined;
  return line.slice(PREFIX.length, ID_END);
}

/** recordId and docId of an index line (`{"recordId":"…","docId":"…",…}`, as Assemble writes it) when certain. */
export function indexLineKeys(line: string): { recordId: string; docId: string } | undefined {
  if (
    !line.startsWith(PREFIX) ||
    !line.startsWith(DOC_PREFIX, ID_END) ||
    !isAlphanumeric(line, PREFIX.length, ID_END)
  )
    return undefined;
  const docStart = ID_END + DOC_PREFIX.length;
  const docEnd = line.indexOf('"', docStart);
  if (docEnd < 0) return undefined;
  // A backslash would be an escape inside the docId: let JSON.parse read it.
  if (line.lastIndexOf('\\', docEnd) >= docStart) return undefined;
  if (line.includes('"recordId"', docEnd) || line.includes('"docId"', docEnd) || line.includes('\\u'))
    return undefined;
  return { recordId: line.slice(PREFIX.length, ID_END), docId: line.slice(docStart, docEnd) };
}
