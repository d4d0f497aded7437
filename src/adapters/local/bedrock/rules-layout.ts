/**
 * Layout rules for the offline rules model: where a document prints its issuer's name and
 * address, and which lines form a line-item table. They read the linearized text the way a
 * person skims a receipt or an invoice: name at the top, address under it, items above the
 * totals. Rows are read as cells (see rules-cells.ts), so two columns merged onto one line
 * (`Acme Industrial Supplies Ltd  INVOICE`) are still told apart.
 */

import { type Cell, markdownCells, splitCells } from './rules-cells.ts';
import { type DocContext, docContext, findAmounts, findDates } from './rules-parse.ts';

/** A document split into non-empty lines (page markers and Markdown rule rows removed) and their cells. */
export interface Doc {
  lines: string[];
  cells: Cell[][];
  ctx: DocContext;
}

export function makeDoc(text: string): Doc {
  const lines = splitLines(text);
  return { lines, cells: lines.map(splitCells), ctx: docContext(text) };
}

const PAGE_MARKER_RE = /^-{2,}\s*page\s+\d+\s*-{2,}$/i;
const MARKDOWN_RULE_RE = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/;

export function splitLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0 || PAGE_MARKER_RE.test(line) || MARKDOWN_RULE_RE.test(line)) continue;
    out.push(line);
  }
  return out;
}

// Legal-entity and trade suffixes that mark a line as a business name. Ambiguous two-letter
// suffixes (AS, AB, KG) are left out: they are ordinary words on too many documents.
const LEGAL_SUFFIX_RE =
  /(?<![\p{L}])(sdn\.?|bh?d\.?|s\/b|ltd\.?|limited|inc\.?|incorporated|llc|l\.l\.c\.|llp|plc|gmbh|ag|s\.?a\.?r\.?l\.?|s\.?p\.?a\.?|b\.?v\.?|pty\.?|pte\.?|co\.|co|corp\.?|corporation|company|enterprises?|trading|group|holdings?|industries|restaurants?|restoran)(?![\p{L}])/iu;
const LEADING_SUFFIX_RE =
  /^(sdn|bh?d|s\/b|ltd|limited|inc|llc|gmbh|ag|pty|pte|co|corp|corporation|company|enterprises?|trading|group|holdings?)(?![\p{L}])/iu;

const DOC_TITLE_WORDS =
  /(?<![\p{L}])(tax|invoice|receipt|cash|bill|sales?|simplified|credit|debit|note|official|quotation|quote|statement|order|delivery|proforma|pro-forma|original|copy|duplicate|customer|payment|welcome|thank|thanks|you|for|shopping|visit|please|come|again|page|of|faktura|rechnung|facture|recibo|factura|factuur|fattura|rekening|kopie|copie|kopia|duplikat|quittung|beleg|reçu|ricevuta)(?![\p{L}])/giu;
const NON_NAME_RE =
  /(?<![\p{L}])(tel|telephone|phone|fax|hp|mobile|e-?mail|www|http|gst|vat|reg|registration|roc|ssm|abn|tin|npwp|ein|iban|swift|website)(?![\p{L}])|@|https?:/iu;

const STREET_RE =
  /\p{L}*(straße|strasse|str\.|weg|platz|gasse|allee)(?![\p{L}])|(?<![\p{L}])(jalan|jln|lorong|lrg|taman|tmn|persiaran|lebuh|lebuhraya|kampung|kg|bandar|kawasan|seksyen|bangunan|wisma|menara|plaza|road|rd|street|st|avenue|ave|lane|ln|drive|boulevard|blvd|highway|hwy|parkway|pkwy|terrace|crescent|rue|chemin|via|viale|piazza|calle|avenida|rua|postfach)\.?(?![\p{L}])|(?<![\p{L}])(lot|level|floor|flr|suite|ste|unit|block|blk|no|building|bldg|p\.?\s?o\.?\s?box)[.:#]?\s*\d/iu;
const POSTCODE_RE =
  /(?<![\p{N}\-.,:/(])\d{5}(?:-\d{4})?(?![\p{N}.,]|-\p{L})|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b|(?<![\p{N}])\d{4}\s+\p{Lu}\p{Ll}{2,}|\b[A-Z]{1,2}-\d{4,5}\b/u;
const STREET_NUMBER_RE = /^\d{1,5}[A-Z]?(?:[-/]\d{1,5}[A-Z]?)*\s*[,.]?\s*\p{L}{3,}/iu;
const ADDRESS_STOP_RE =
  /(?<![\p{L}])(tel|telephone|phone|fax|hp|mobile|e-?mail|www|gst|vat|reg|registration|roc|company|invoice|receipt|bill|cashier|date|time|table|order|doc|document|customer|member|abn|tin)(?![\p{L}])|@|https?:/iu;

function letters(s: string): number {
  return (s.match(/\p{L}/gu) ?? []).length;
}

/** Drop a trailing registration number in parentheses: `99 SPEED MART S/B (519537-X)`. */
function stripTrailingId(line: string): string {
  return (
    line
      .replace(/\s*\((?=[^)]*\d)[\p{L}\p{N}\s.:\-/]*\)\s*$/u, '')
      // OCR may lose the opening parenthesis, or read it as a letter: `S/B S19537-X)`.
      .replace(/\s+[\p{L}]?\d{4,}[\p{L}\p{N}-]*\)\s*$/u, '')
      .trim()
  );
}

export function hasLegalSuffix(line: string): boolean {
  return LEGAL_SUFFIX_RE.test(line);
}

export function isAddressLike(line: string): boolean {
  // A business name may contain a place word (`BOOK TA .K (TAMAN DAYA) SDN BHD`); only a
  // postcode makes a line with a legal suffix an address.
  if (hasLegalSuffix(line) && !POSTCODE_RE.test(line)) return false;
  if (ADDRESS_STOP_RE.test(line) && !/^(no|lot)[.:\s]/i.test(line)) return false;
  // A short caption with a number (`ST#: 1477`, `TE#: 20`) is a till or store id.
  if (/^[\p{L}.\s]{1,12}#\s*:?\s*\d+$/u.test(line.trim())) return false;
  let score = 0;
  if (STREET_RE.test(line)) score += 2;
  if (POSTCODE_RE.test(line)) score += 2;
  if (STREET_NUMBER_RE.test(line)) score += 1;
  return score >= 2;
}

/** A short line continuing an address: a town, state or country (`JOHOR.`, `SELANGOR D.E, MALAYSIA`). */
function isAddressContinuation(line: string): boolean {
  if (ADDRESS_STOP_RE.test(line) || NON_NAME_RE.test(line) || line.includes(':')) return false;
  if (findDates(line, { decimalComma: false, usContext: false }).length > 0) return false;
  const words = line.split(/\s+/).filter((w) => w.length > 0);
  return words.length <= 5 && letters(line) >= 2 && letters(line) >= line.replace(/\s/g, '').length * 0.5;
}

function isKeyValue(line: string): boolean {
  return /^[^:]{1,30}:\s*\S/.test(line) || /^[^:]{1,30}:\s*$/.test(line);
}

/** Lines that are ids, registration numbers and the like: skipped between a name and its address. */
function isIdLine(line: string): boolean {
  const compact = line.replace(/\s/g, '');
  return letters(line) < compact.length * 0.5 || /^\(.*\)$/.test(line) || NON_NAME_RE.test(line);
}

// Lower-case words that names do contain (`Bank of America`, `Ben & Jerry's`, `van der Berg`).
const NAME_PARTICLES = new Set([
  'of',
  'and',
  'the',
  'de',
  'del',
  'der',
  'van',
  'von',
  'la',
  'le',
  'du',
  'des',
  'da',
  'y',
  'e',
  'et',
  'und',
]);

// Nouns that end section headings (`Shipping Address`, `Hotel Details`), never a name.
const HEADING_END_RE =
  /(?<![\p{L}])(address|details|information|info|summary|description|notes|terms|conditions|items|particulars|to|from)\s*:?$/iu;

/** A sentence of running text rather than a name: long, or several lower-case words. */
function isSentence(s: string): boolean {
  const ws = s.split(/\s+/).filter((w) => /\p{L}/u.test(w));
  if (ws.length > 8) return true;
  // Running text starts in lower case; a brand may too, with a capital inside (`eBay`, `e-Luscious`).
  const brand = /^\p{Ll}[\p{Ll}-]*\p{Lu}/u;
  if (/^\p{Ll}/u.test(s) && !brand.test(s)) return true;
  return ws.filter((w) => /^\p{Ll}/u.test(w) && !brand.test(w) && !NAME_PARTICLES.has(w)).length >= 2;
}

/**
 * A labelled name as printed: not running text, not an aside in parentheses, not a title or
 * copy mark (`***CUSTOMER COPY***` holds no customer's name).
 */
export function isNameLike(s: string): boolean {
  if (isSentence(s) || /^\(.*\)$/.test(s.trim()) || /^[*=~#-]|[*=~#]$/.test(s.trim())) return false;
  return letters(s.replace(DOC_TITLE_WORDS, '')) >= 2;
}

function isPlausibleName(line: string): boolean {
  const s = stripTrailingId(line);
  const compact = s.replace(/\s/g, '');
  if (letters(s) < 3 || letters(s) < compact.length * 0.55 || isSentence(s) || HEADING_END_RE.test(s))
    return false;
  if (/^\(.*\)$/.test(s) || /^[-*=#~|]/.test(s) || NON_NAME_RE.test(s) || isKeyValue(s)) return false;
  // A caption for a number printed beside it (`Inv. No.`, `Order #`) is a key, not a name.
  if (/(?<![\p{L}])(?:no|nr|n°|num|#|number|nummer|id)\.?$/iu.test(s)) return false;
  if (letters(s.replace(DOC_TITLE_WORDS, '')) < 3) return false;
  if (findDates(s, { decimalComma: false, usContext: false }).length > 0) return false;
  if (findAmounts(s, { decimalComma: false, usContext: false }).some((a) => a.monetary)) return false;
  return !isAddressLike(s);
}

/**
 * A sender line printing name and address together (`ACME AG - Uferweg 40 - 63571 Gelnhausen`)
 * is read as separate cells when a part after a dash or bullet is an address.
 */
function senderParts(cell: string): string[] {
  const parts = cell.split(/\s+[-–·•|]\s+/);
  return parts.length > 1 && parts.slice(1).some((p) => isAddressLike(p) || POSTCODE_RE.test(p))
    ? parts
    : [cell];
}

/** The cells of a row as the issuer search reads them. */
function nameCells(doc: Doc, i: number): string[] {
  return (doc.cells[i] ?? []).flatMap((c) => senderParts(c.text));
}

// Document titles printed before or after a name on the same cell: `Amazon Web Services
// Invoice`, `FACTUUR. Coolblue B.V.`. The name is what remains.
const TITLE_NOUNS =
  '(?:tax\\s+)?(?:invoice|receipt|statement|quotation|factuur|rekening|rechnung|facture|factura|fattura|faktura|nota)';
const LEADING_TITLE_RE = new RegExp(`^${TITLE_NOUNS}[.:]?\\s+(?=\\S)`, 'iu');
const TRAILING_TITLE_RE = new RegExp(`(?<=\\S)\\s+${TITLE_NOUNS}[.:]?$`, 'iu');

function stripTitle(name: string): string {
  const stripped = name.replace(LEADING_TITLE_RE, '').replace(TRAILING_TITLE_RE, '').trim();
  return letters(stripped) >= 3 ? stripped : name;
}

/** Join the lines a long name wraps onto: `HOME MASTER HARDWARE &` + `ELECTRICAL`. */
function joinNameLines(doc: Doc, first: number, start: string): { name: string; last: number } {
  const { lines } = doc;
  let name = stripTrailingId(start);
  let last = first;
  // A name in one column of a multi-column row does not continue on the whole next line.
  if ((doc.cells[first] ?? []).length > 1) return { name: name.replace(/\s+/g, ' ').trim(), last };
  for (let i = first + 1; i < Math.min(lines.length, first + 3); i++) {
    const next = lines[i] ?? '';
    const open = (name.match(/\(/g) ?? []).length > (name.match(/\)/g) ?? []).length;
    const dangling = /(&|,|-|\band)$/i.test(name);
    const startsWithSuffix =
      LEADING_SUFFIX_RE.test(next) && !hasLegalSuffix(name.split(/\s+/).slice(-1)[0] ?? '');
    if (!(open || dangling || startsWithSuffix) || isAddressLike(next) || isIdLine(next)) break;
    if ((doc.cells[i] ?? []).length > 1) break;
    name = `${name} ${stripTrailingId(next)}`;
    last = i;
  }
  return { name: name.replace(/\s+/g, ' ').trim(), last };
}

/** How far down the page the issuer's name and address are looked for. */
const HEADER_LINES = 14;

// Headings of the addressee's block (`Bill To:`, `Ship to`, `Factuuradres`, `Customer`): the
// name printed under one is the customer's, never the issuer's. A heading is a whole cell.
const RECIPIENT_HEADING_RE = new RegExp(
  String.raw`^(?:(?:bill(?:ed)?|invoice[sd]?|sold|ship(?:ped)?|deliver(?:ed)?|factur[ée]|livr[ée])\s*(?:to|à)` +
    '|customer|client|recipient|consignee|buyer|addressee|kunde|empfänger|destinataire|klant' +
    String.raw`|(?:billing|shipping|delivery|invoice|mailing|customer)\s+(?:address|details)` +
    '|factuuradres|afleveradres|rechnungsadresse|lieferadresse|rechnungsanschrift|lieferanschrift' +
    String.raw`|adresse\s+de\s+(?:facturation|livraison))(?:\s+address)?\s*:?$`,
  'iu',
);

export function isRecipientHeading(cell: string): boolean {
  return RECIPIENT_HEADING_RE.test(cell.trim());
}

/** Rows after a recipient heading that belong to the addressee's block (name, attention, address). */
function recipientBlockEnd(doc: Doc, heading: number): number {
  let end = heading;
  for (let i = heading + 1; i < Math.min(doc.lines.length, heading + 6); i++) {
    const line = doc.lines[i] ?? '';
    // A title or a `key: value` pair (other than an attention line) ends the block.
    if (
      new RegExp(`^${TITLE_NOUNS}\\b`, 'iu').test(line) ||
      /^(?!(?:attn|attention|t\.?a\.?v)\b)[^:]{1,30}:/iu.test(line)
    )
      break;
    end = i;
  }
  return end;
}

/**
 * A row of short captions over a row of values with as many cells (`Booking ID  Payment
 * Mode` / `IBZY2087  Cash at Hotel`): a form laid out in columns. Neither row holds a name.
 */
export function isColumnHeaderRow(doc: Doc, i: number): boolean {
  const cells = doc.cells[i] ?? [];
  const next = doc.cells[i + 1] ?? [];
  if (cells.length < 2 || next.length !== cells.length) return false;
  // Captions are short and digit-free, and name no company; values under them are not pairs.
  const caption = (t: string): boolean =>
    !/\p{N}/u.test(t) && t.split(/\s+/).length <= 4 && !hasLegalSuffix(t);
  if (!cells.every((c) => caption(c.text))) return false;
  if (next.some((c) => /^[^:]{1,30}:\s*\S/.test(c.text))) return false;
  return next.some((c) => /\p{N}/u.test(c.text));
}

/**
 * The issuer's name: among the plausible name cells printed above the first address cell
 * (the first eight rows when there is none), the first one carrying a legal or trade suffix
 * (`SDN BHD`, `GmbH`, `Trading`), else the one nearest above the address, else the first.
 * Cells that are mostly digits, dates, amounts, contact details, `key: value` pairs or
 * document titles (`TAX INVOICE`, `RECEIPT`) are never names, and a title printed beside a
 * name is dropped from it. Rows of column captions and the values under them are skipped; a
 * recipient heading (`Bill To:`) ends the search when a name was already seen above it, and
 * otherwise its block is skipped: what it heads is the customer's.
 */
export function findIssuerName(doc: Doc): { name: string; line: number } | undefined {
  const { lines } = doc;
  const candidates: { name: string; first: number; last: number }[] = [];
  let addressAt: number | undefined;
  const limit = Math.min(lines.length, HEADER_LINES);
  scan: for (let i = 0; i < limit; i++) {
    // A table row is never the letterhead.
    if (markdownCells(lines[i] ?? '')) continue;
    const cells = nameCells(doc, i);
    if (cells.some(isRecipientHeading)) {
      if (candidates.length > 0) break;
      i = recipientBlockEnd(doc, i);
      continue;
    }
    if (isColumnHeaderRow(doc, i)) {
      i++;
      continue;
    }
    for (const [k, cell] of cells.entries()) {
      if (isAddressLike(cell)) {
        addressAt = i;
        break scan;
      }
      if (!isPlausibleName(cell)) continue;
      // A caption with its amount beside it (`Gesamtbetrag  1.190,00 EUR`) is no name.
      const next = cells[k + 1];
      if (next !== undefined && findAmounts(next, doc.ctx).some((a) => a.monetary)) continue;
      const { name, last } = joinNameLines(doc, i, cell);
      candidates.push({ name: stripTitle(name), first: i, last });
      if (last > i) {
        i = last;
        continue scan;
      }
    }
  }
  // With no address in sight, only the top of the page is the issuer's.
  if (addressAt === undefined)
    candidates.splice(0, candidates.length, ...candidates.filter((c) => c.first < 8));
  let chosen = candidates.find((c) => hasLegalSuffix(c.name));
  if (chosen === undefined && addressAt !== undefined) {
    // The name sits directly above the address (or beside it), maybe with id lines between.
    for (let i = addressAt; i >= 0 && chosen === undefined; i--) {
      chosen = candidates.find((c) => c.last === i);
      if (i < addressAt && !chosen && !isIdLine(lines[i] ?? '') && !isKeyValue(lines[i] ?? '')) break;
    }
  }
  chosen ??= candidates[0];
  return chosen && chosen.name.length > 0 ? { name: chosen.name, line: chosen.last } : undefined;
}

/**
 * The issuer named in an imprint: a company name with a legal suffix opening a line, followed
 * within a few lines by the registration, bank and contact details only an issuer prints about
 * itself (`KvK`, `IBAN`, `BTW-nr`, `Tel.`, `E-mail`). Many European invoices carry their
 * letterhead as a logo and state the company only in such a footer. The name ends at its
 * suffix (`e-Luscious Nederland B.V. iov Saeco.com` → `e-Luscious Nederland B.V.`).
 */
export function findImprintName(doc: Doc): { name: string; line: number } | undefined {
  const { lines } = doc;
  for (let i = 0; i < lines.length; i++) {
    // What a recipient heading (`Factuuradres`, `Bill To:`) heads is the customer's.
    if ((doc.cells[i] ?? []).some((c) => isRecipientHeading(c.text))) {
      i = recipientBlockEnd(doc, i);
      continue;
    }
    const first = doc.cells[i]?.[0]?.text ?? lines[i] ?? '';
    const name = IMPRINT_NAME_RE.exec(first)?.[1]?.trim();
    if (!name || !isPlausibleName(name)) continue;
    let details = 0;
    for (let j = i; j < Math.min(lines.length, i + IMPRINT_LINES); j++) {
      details += (lines[j] ?? '').match(IMPRINT_DETAIL_RE)?.length ?? 0;
    }
    if (details >= 2) return { name, line: i };
  }
  return undefined;
}

const IMPRINT_LINES = 5;
const IMPRINT_NAME_RE = new RegExp(
  String.raw`^((?:[\p{L}\p{N}&'.\-]+\s){0,5}?[\p{L}\p{N}&'.\-]*\s?${LEGAL_SUFFIX_RE.source})`,
  'iu',
);
// Registration, bank and contact captions; a bare `VAT`/`BTW` heads tax tables just as often.
const IMPRINT_DETAIL_RE =
  /(?<![\p{L}])(iban|bic|swift|kvk|coc|hrb|(?:btw|vat|ust)[\s-]?(?:nr|no|nummer|number|id|reg)|ustid|steuer-?nr|tel|telephone|phone|fax|e-?mail|website|www)(?![\p{L}])/giu;

const MAX_ADDRESS_LINES = 6;

/**
 * The address block starting at `start` (or the first address-like line within a few lines
 * after it): address-like lines plus short town/state/country lines, up to a contact,
 * registration or title line. Parts are joined with ', ' unless the line already ends in
 * punctuation.
 */
export function collectAddress(lines: readonly string[], start: number, lookahead = 6): string | undefined {
  let i = start;
  const limit = Math.min(lines.length, start + lookahead);
  while (i < limit && !isAddressLike(lines[i] ?? '')) i++;
  if (i >= limit) return undefined;
  const parts: string[] = [];
  for (; i < lines.length && parts.length < MAX_ADDRESS_LINES; i++) {
    const line = lines[i] ?? '';
    if (isAddressLike(line) || isAddressContinuation(line) || /,\s*$/.test(parts[parts.length - 1] ?? '')) {
      if (ADDRESS_STOP_RE.test(line) && !isAddressLike(line)) break;
      parts.push(line);
    } else {
      break;
    }
  }
  return joinAddress(parts);
}

export function joinAddress(parts: readonly string[]): string | undefined {
  let out = '';
  for (const part of parts) {
    const p = part.trim();
    if (!p) continue;
    out = out === '' ? p : /[,.;]$/.test(out) ? `${out} ${p}` : `${out}, ${p}`;
  }
  return out === '' ? undefined : out;
}

/**
 * The issuer's address: the block under the issuer's name, else the first one in the header.
 * A row of several cells contributes its address cell only (`Sheffield S3 8AB  Invoice
 * Number:  INV-2041` → `Sheffield S3 8AB`), or its first cell when none is an address.
 */
export function findIssuerAddress(doc: Doc): string | undefined {
  const name = findIssuerName(doc);
  const from = name ? name.line + 1 : 0;
  const lines = doc.lines.slice(0, HEADER_LINES + 6).map((line, i) => {
    const cells = doc.cells[i] ?? [];
    if (cells.length < 2) return line;
    return (cells.find((c) => isAddressLike(c.text)) ?? cells[0])?.text ?? line;
  });
  return collectAddress(lines, from, name ? 6 : HEADER_LINES);
}
