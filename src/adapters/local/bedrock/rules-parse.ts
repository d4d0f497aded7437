/**
 * Token-level parsers for the offline rules model: amounts, dates, currencies and label
 * patterns. Pure functions over strings; the layout rules and the schema walk build on them.
 */

/** How a document writes numbers and dates, guessed once per document. */
export interface DocContext {
  /** `1.234,50` style: comma is the decimal separator. */
  decimalComma: boolean;
  /** US conventions (month-first slashed dates) are likely. */
  usContext: boolean;
}

export interface AmountToken {
  value: number;
  /** Offsets of the whole token (currency and sign included) in the searched string. */
  start: number;
  end: number;
  /** Written with a decimal part (`9.00`) or a currency marker (`$ 12`): an amount, not a count. */
  monetary: boolean;
  /** Currency marker written next to the number, upper-cased as printed (`RM`, `$`, `EUR`). */
  currency?: string;
}

export interface DateToken {
  iso: string;
  start: number;
  end: number;
}

// Markers printed next to amounts. Longest first so that `US$` wins over `$`.
const CURRENCY_MARKERS = [
  'US\\$',
  'A\\$',
  'AU\\$',
  'C\\$',
  'CA\\$',
  'NZ\\$',
  'HK\\$',
  'S\\$',
  'RM',
  'Rs\\.?',
  'INR',
  'USD',
  'EUR',
  'GBP',
  'MYR',
  'SGD',
  'AUD',
  'CAD',
  'CHF',
  'JPY',
  'CNY',
  'RMB',
  'HKD',
  'NZD',
  'IDR',
  'THB',
  'PHP',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'ZAR',
  'AED',
  'SAR',
  'Rp\\.?',
  'R\\$',
  'kr',
  '\\$',
  '€',
  '£',
  '₹',
  '¥',
  '₩',
  '₱',
  '฿',
  '₫',
  '₺',
];
const CURRENCY_RE = CURRENCY_MARKERS.join('|');
const CURRENCY_ONLY_RE = new RegExp(`^(?:${CURRENCY_RE})$`, 'iu');

/**
 * A cell holding nothing but a currency marker (`RM`, `USD`, `€`, `Rs.`): the unit of the
 * amount printed in the next cell (`TOTAL  RM  39.80`), never a caption of its own.
 */
export function isCurrencyMarker(text: string): boolean {
  return CURRENCY_ONLY_RE.test(text.trim());
}
// Markers printed after the amount (`12,50 €`, `100 kr`).
const TRAILING_CURRENCY_RE = [
  '€',
  '\\$',
  '£',
  '₹',
  '¥',
  'EUR',
  'USD',
  'GBP',
  'CHF',
  'MYR',
  'INR',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'kr',
].join('|');

// A number as printed on documents: digits with optional grouping and decimal separators.
// The look-behind refuses digits glued to letters, slashes, colons or other digits (ids,
// dates, times, phone numbers); a sign may sit before the currency marker or the digits,
// and accounting receipts print negatives as a trailing minus (`12.00-`). OCR of thermal
// receipts often splits the cents off with a space (`39. 80`): a dot, one space and exactly
// two digits ending the text or followed by a gap or a non-letter still read as one amount,
// never before a word (`1. 12 APPLES` is a list number and a quantity). A number glued to a
// dot and a letter is part of an abbreviation or an id (`D.I.Y.` misread as `0.7.Y.`).
const AMOUNT_RE = new RegExp(
  String.raw`(?<![\p{L}\p{N}.,/\-–]|\p{N}:)` +
    String.raw`(?<sign>[-−–]\s?)?` +
    String.raw`(?:(?<cur>${CURRENCY_RE})\s?(?<sign2>[-−–]\s?)?)?` +
    String.raw`(?<num>\d{1,3}(?:[,.']\d{3})+(?:[.,]\d{1,3})?|\d+\. \d{2}(?=\s*$|\s{2,}|\s[^\p{L}\s])|\d+(?:[.,]\d{1,3})?)` +
    String.raw`(?<trail>-(?![\p{N}\p{L}]))?` +
    String.raw`(?:\s?(?<cur2>${TRAILING_CURRENCY_RE})(?![\p{L}]))?` +
    String.raw`(?![\p{N}/:]|[.,]\p{N}|[.,]\p{L}|[-–]\p{N}|\s?%|\p{L}{2})`,
  'gu',
);

/**
 * Parse the digits of an amount. Both separators present: the last one is the decimal mark.
 * One kind only: repeated, or a single comma before exactly three digits, it groups
 * thousands (`1,234`); otherwise it is the decimal mark — unless the document writes decimal
 * commas, where `1.234` groups thousands and `12,5` is twelve and a half.
 */
export function parseNumber(raw: string, ctx: DocContext): number | undefined {
  const s = raw.replace(/[' ]/g, '');
  const lastDot = s.lastIndexOf('.');
  const lastComma = s.lastIndexOf(',');
  let normalized: string;
  if (lastDot >= 0 && lastComma >= 0) {
    const decimal = lastDot > lastComma ? '.' : ',';
    const group = decimal === '.' ? ',' : '.';
    const [intPart = '', fracPart = ''] = s.split(decimal);
    if (!new RegExp(`^\\d{1,3}(\\${group}\\d{3})*$`).test(intPart)) return undefined;
    normalized = `${intPart.split(group).join('')}.${fracPart}`;
  } else if (lastDot >= 0 || lastComma >= 0) {
    const sep = lastDot >= 0 ? '.' : ',';
    const parts = s.split(sep);
    if (parts.length > 2) {
      if (!parts.slice(1).every((p) => p.length === 3)) return undefined;
      normalized = parts.join('');
    } else {
      const [intPart = '', fracPart = ''] = parts;
      const groupsThousands =
        fracPart.length === 3 && ((sep === ',' && !ctx.decimalComma) || (sep === '.' && ctx.decimalComma));
      normalized = groupsThousands ? `${intPart}${fracPart}` : `${intPart}.${fracPart}`;
    }
  } else {
    normalized = s;
  }
  const value = Number(normalized);
  return Number.isFinite(value) ? value : undefined;
}

/** Every amount-looking number in `s`, left to right. */
export function findAmounts(s: string, ctx: DocContext): AmountToken[] {
  const out: AmountToken[] = [];
  for (const m of s.matchAll(AMOUNT_RE)) {
    const g = m.groups ?? {};
    const num = g['num'];
    if (num === undefined) continue;
    const value = parseNumber(num, ctx);
    if (value === undefined) continue;
    const negative = Boolean(g['sign'] || g['sign2'] || g['trail']);
    const cur = g['cur'] ?? g['cur2'];
    const hasDecimals =
      /[.,] ?\d{1,2}$/.test(num) || (/[.,]\d{3}$/.test(num) && value < 1000 && !/[.,]\d{3}[.,]/.test(num));
    const token: AmountToken = {
      value: negative ? -value : value,
      start: m.index,
      end: m.index + m[0].length,
      monetary: hasDecimals || cur !== undefined,
    };
    if (cur !== undefined) token.currency = cur.toUpperCase().replace(/\.$/, '');
    out.push(token);
  }
  return out;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  januar: 1,
  janvier: 1,
  feb: 2,
  february: 2,
  februar: 2,
  février: 2,
  fevrier: 2,
  mar: 3,
  march: 3,
  märz: 3,
  maerz: 3,
  mars: 3,
  mac: 3,
  apr: 4,
  april: 4,
  avril: 4,
  may: 5,
  mai: 5,
  mei: 5,
  jun: 6,
  june: 6,
  juni: 6,
  juin: 6,
  jul: 7,
  july: 7,
  juli: 7,
  juillet: 7,
  aug: 8,
  august: 8,
  août: 8,
  aout: 8,
  ogos: 8,
  sep: 9,
  sept: 9,
  september: 9,
  septembre: 9,
  oct: 10,
  october: 10,
  oktober: 10,
  octobre: 10,
  okt: 10,
  nov: 11,
  november: 11,
  novembre: 11,
  dec: 12,
  december: 12,
  dezember: 12,
  décembre: 12,
  decembre: 12,
  dez: 12,
  dis: 12,
  disember: 12,
};
const MONTH_RE = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');

const ISO_DATE_RE = /(?<![\p{N}])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\p{N}])/gu;
const NUMERIC_DATE_RE =
  /(?<![\p{L}\p{N}.,/-])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\p{N}]|[.,/-]\p{N})/gu;
const DAY_MONTH_RE = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(\d{1,2})(?:st|nd|rd|th)?[\s\-./]*(${MONTH_RE})\.?(?![\p{L}])[\s\-.,/']*(\d{4}|\d{2})(?![\p{N}])`,
  'giu',
);
const MONTH_DAY_RE = new RegExp(
  String.raw`(?<![\p{L}])(${MONTH_RE})\.?(?![\p{L}])\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})(?![\p{N}])`,
  'giu',
);

function fullYear(y: number, digits: number): number {
  if (digits === 4) return y;
  // Two-digit years: documents processed today are from this century; 70–99 read as 19xx
  // so that old archives keep working.
  return y < 70 ? 2000 + y : 1900 + y;
}

function isoIfValid(y: number, m: number, d: number): string | undefined {
  if (m < 1 || m > 12 || d < 1 || y < 1900 || y > 2199) return undefined;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > days) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * Every date in `s`, left to right, as ISO YYYY-MM-DD. Numeric day/month order: a part over
 * 12 decides; when both could be a month, slashed dates are read month-first only in a US
 * context (`$` amounts without another currency, US state + ZIP), day-first everywhere else —
 * most of the world, and all dotted (`25.12.2018`) and dashed (`25-12-18`) dates.
 */
export function findDates(s: string, ctx: DocContext): DateToken[] {
  const out: DateToken[] = [];
  const taken: [number, number][] = [];
  const push = (iso: string | undefined, start: number, end: number): void => {
    if (iso === undefined || taken.some(([a, b]) => start < b && end > a)) return;
    taken.push([start, end]);
    out.push({ iso, start, end });
  };
  for (const m of s.matchAll(ISO_DATE_RE)) {
    push(isoIfValid(Number(m[1]), Number(m[3]), Number(m[4])), m.index, m.index + m[0].length);
  }
  for (const m of s.matchAll(NUMERIC_DATE_RE)) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const yearText = m[4] ?? '';
    const y = fullYear(Number(yearText), yearText.length);
    let iso: string | undefined;
    if (a > 12 || b > 12) iso = a > 12 ? isoIfValid(y, b, a) : isoIfValid(y, a, b);
    else if (ctx.usContext && m[2] === '/') iso = isoIfValid(y, a, b);
    else iso = isoIfValid(y, b, a);
    push(iso, m.index, m.index + m[0].length);
  }
  // Month-first with a four-digit year before day-first: in `1 - July 31, 2014` the date is July 31.
  for (const m of s.matchAll(MONTH_DAY_RE)) {
    const month = MONTHS[(m[1] ?? '').toLowerCase()];
    if (month === undefined) continue;
    push(isoIfValid(Number(m[3]), month, Number(m[2])), m.index, m.index + m[0].length);
  }
  for (const m of s.matchAll(DAY_MONTH_RE)) {
    const yearText = m[3] ?? '';
    const month = MONTHS[(m[2] ?? '').toLowerCase()];
    if (month === undefined) continue;
    push(
      isoIfValid(fullYear(Number(yearText), yearText.length), month, Number(m[1])),
      m.index,
      m.index + m[0].length,
    );
  }
  return out.sort((x, y) => x.start - y.start);
}

// ISO 4217 codes that show up on business documents. A short list on purpose: rarer codes
// collide with words printed on receipts (`PEN`, `ALL`, `CUP`, and `BHD` in `SDN BHD`).
const ISO_CODES = new Set([
  'USD',
  'EUR',
  'GBP',
  'MYR',
  'SGD',
  'INR',
  'AUD',
  'CAD',
  'NZD',
  'CHF',
  'JPY',
  'CNY',
  'HKD',
  'IDR',
  'THB',
  'PHP',
  'VND',
  'KRW',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'HUF',
  'RON',
  'ZAR',
  'BRL',
  'MXN',
  'AED',
  'SAR',
  'TRY',
  'ILS',
  'TWD',
  'PKR',
  'LKR',
  'BDT',
  'NGN',
  'KES',
  'EGP',
]);

const MARKER_CODES: Record<string, string> = {
  RM: 'MYR',
  RS: 'INR',
  '₹': 'INR',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₩': 'KRW',
  '₱': 'PHP',
  '฿': 'THB',
  '₫': 'VND',
  '₺': 'TRY',
  US$: 'USD',
  A$: 'AUD',
  AU$: 'AUD',
  C$: 'CAD',
  CA$: 'CAD',
  NZ$: 'NZD',
  HK$: 'HKD',
  S$: 'SGD',
  RMB: 'CNY',
  RP: 'IDR',
  R$: 'BRL',
};

/** ISO 4217 code for a currency marker as printed next to an amount, when it names one. */
export function markerToCode(marker: string, dollarCode: string): string | undefined {
  const m = marker.toUpperCase().replace(/\.$/, '');
  if (m === '$') return dollarCode;
  if (ISO_CODES.has(m)) return m;
  return MARKER_CODES[m];
}

/**
 * The document's currency, from explicit ISO codes and the markers printed beside amounts.
 * `$` is USD unless the text names another dollar (AUD, SGD …) or its country; `¥` is CNY
 * when the text says RMB/CNY/元. Codes next to amounts or in parentheses weigh more than codes
 * in running text. Undefined when the text shows no currency at all.
 */
export function detectCurrency(text: string, ctx: DocContext): string | undefined {
  const votes = new Map<string, number>();
  const vote = (code: string | undefined, weight: number): void => {
    if (code) votes.set(code, (votes.get(code) ?? 0) + weight);
  };
  const codes = [...text.matchAll(/(?<![\p{L}])([A-Z]{3})(?![\p{L}])/gu)].map((m) => m[1] ?? '');
  const namedDollar = ['AUD', 'CAD', 'NZD', 'SGD', 'HKD'].find((c) => codes.includes(c));
  let dollarCode = namedDollar ?? 'USD';
  if (!namedDollar) {
    if (/\bAustralia\b|\bABN\b/i.test(text)) dollarCode = 'AUD';
    else if (/\bSingapore\b/i.test(text)) dollarCode = 'SGD';
    else if (/\bCanada\b/i.test(text)) dollarCode = 'CAD';
    else if (/\bNew Zealand\b/i.test(text)) dollarCode = 'NZD';
    else if (/\bHong Kong\b/i.test(text)) dollarCode = 'HKD';
  }
  for (const m of text.matchAll(/(?<![\p{L}])([A-Z]{3})(?![\p{L}])/gu)) {
    const code = m[1] ?? '';
    if (!ISO_CODES.has(code)) continue;
    const before = text.slice(Math.max(0, m.index - 2), m.index);
    const after = text.slice(m.index + 3, m.index + 6);
    const nearAmount = /\d\s?$/.test(before) || /^\s?[-\d]/.test(after);
    const inParens = before.endsWith('(') && after.startsWith(')');
    vote(code, nearAmount || inParens ? 3 : 1);
  }
  for (const token of text.split('\n').flatMap((line) => findAmounts(line, ctx))) {
    if (token.currency === undefined || ISO_CODES.has(token.currency)) continue;
    vote(markerToCode(token.currency, dollarCode), 2);
  }
  // Markers printed as column headers or on their own (`AMT(RM)`, `Amount (€)`).
  for (const m of text.matchAll(/(?<![\p{L}])(RM|Rs\.?|[€£₹])(?![\p{L}])/gu))
    vote(markerToCode(m[1] ?? '', dollarCode), 1);
  if ((votes.get('JPY') ?? 0) > 0 && /RMB|CNY|元/.test(text)) {
    vote('CNY', votes.get('JPY') ?? 0);
    votes.delete('JPY');
  }
  let best: string | undefined;
  let bestVotes = 0;
  for (const [code, n] of votes) {
    if (n > bestVotes) {
      best = code;
      bestVotes = n;
    }
  }
  return best;
}

const US_STATES =
  'AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY';

/** Guess how the document writes numbers and dates. */
export function docContext(text: string): DocContext {
  const decimalCommas = (text.match(/\d,\d{2}(?![\d])/g) ?? []).length;
  const decimalDots = (text.match(/\d\.\d{2}(?![\d])/g) ?? []).length;
  const dollars = /\$\s?\d|\d\s?\$|\bUSD\b/.test(text);
  const otherCurrency = /\b(RM|EUR|GBP|MYR|INR|SGD|AUD|CAD)\b|[€£₹]/.test(text);
  const usAddress =
    new RegExp(String.raw`\b(?:${US_STATES})\s\d{5}(?:-\d{4})?\b`).test(text) ||
    /\b(USA|U\.S\.A\.|United States)\b/.test(text);
  // Dollars of countries that write dates day-first, and GST, which the US does not levy.
  const nonUsDollar =
    /\b(AUD|SGD|NZD|HKD|CAD|ABN|GST)\b|\b(A|AU|S|NZ|HK|C)\$|Australia|Singapore|New Zealand/.test(text);
  return {
    decimalComma: decimalCommas > decimalDots,
    usContext: usAddress || (dollars && !otherCurrency && !nonUsDollar),
  };
}

/** Lower-case words of a label, with `_`, `-` and `/` read as spaces (`sub-total` → `sub total`). */
export function labelWords(label: string): string[] {
  return label
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_\-/]+/)
    .filter((w) => w.length > 0);
}

/**
 * A pattern matching a label as printed: case-insensitive, words separated by any run of
 * spaces, dots or dashes (or nothing, so `sub total` matches `SUBTOTAL`), never inside a word.
 */
export function labelPattern(label: string): RegExp | undefined {
  const words = labelWords(label);
  if (words.length === 0) return undefined;
  const body = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(String.raw`[\s.\-_/]*`);
  const lead = /^[\p{L}\p{N}]/u.test(words[0] ?? '') ? String.raw`(?<![\p{L}\p{N}])` : '';
  const trail = /[\p{L}\p{N}]$/u.test(words[words.length - 1] ?? '') ? String.raw`(?![\p{L}\p{N}])` : '';
  return new RegExp(`${lead}${body}${trail}`, 'giu');
}
