/**
 * Documents generated in memory for the robustness tests and the soak benchmark, so that no binary
 * is ever committed: small digital PDFs written byte by byte (fast enough for 10,000 of them), and
 * the hostile files Register must refuse from their first bytes.
 */

import * as zlib from 'node:zlib';
import { deflateRawSync } from 'node:zlib';

/** A line of text placed on a US Letter page, in points from the bottom-left corner. */
export interface PlacedText {
  x: number;
  y: number;
  text: string;
  size?: number;
}

/** PDF literal string: only `\`, `(` and `)` need escaping; WinAnsi covers Latin-1. */
function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * A one-page PDF with Helvetica text (a standard font, so nothing is embedded): about 1 KB, built
 * with plain string concatenation and a computed cross-reference table. mupdf opens it without
 * repair, which is what a born-digital invoice looks like.
 */
export function simplePdf(items: readonly PlacedText[]): Uint8Array {
  const ops = items
    .map((t) => `BT /F1 ${t.size ?? 10} Tf 1 0 0 1 ${t.x} ${t.y} Tm ${pdfString(t.text)} Tj ET`)
    .join('\n');
  const content = Buffer.from(ops, 'latin1');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${content.length} >>\nstream\n${content.toString('latin1')}\nendstream`,
  ];
  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(body, 'latin1'));
}

/** Lines from the top of the page down, one every `leading` points, in a left and an optional right column. */
export function layout(rows: readonly (string | readonly [string, string])[], leading = 16): PlacedText[] {
  const out: PlacedText[] = [];
  rows.forEach((row, i) => {
    const y = 740 - i * leading;
    if (typeof row === 'string') {
      if (row) out.push({ x: 56, y, text: row });
    } else {
      out.push({ x: 56, y, text: row[0] });
      out.push({ x: 380, y, text: row[1] });
    }
  });
  return out;
}

const SELLERS = [
  'Acme Supplies Ltd',
  'Northwind Traders',
  'Blue Harbour GmbH',
  'Kestrel Office Co',
  'Juniper Tools plc',
];
const BUYERS = ['Riverside Clinic', 'Oak Lane School', 'Delta Logistics', 'Pine & Co Architects'];
const ITEMS = [
  'Printer paper A4',
  'Toner cartridge',
  'Desk lamp',
  'Cable ties',
  'Stapler',
  'Whiteboard pens',
];
const MERCHANTS = ['Corner Cafe', 'Green Grocer', 'City Pharmacy', 'Book Nook', 'Harbour Bakery'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September'];

/** What a generated document says, so a test or the benchmark can check the extraction. */
export interface GeneratedDocument {
  type: 'invoice' | 'receipt';
  lines: PlacedText[];
  expected: Record<string, unknown>;
}

const money = (cents: number) => (cents / 100).toFixed(2);

/** A small, varied invoice (`n` picks the data deterministically). */
export function invoiceDocument(n: number, extraRows: readonly string[] = []): GeneratedDocument {
  const seller = SELLERS[n % SELLERS.length] ?? 'Acme Supplies Ltd';
  const buyer = BUYERS[n % BUYERS.length] ?? 'Riverside Clinic';
  const day = (n % 27) + 1;
  const month = n % MONTHS.length;
  const items = [0, 1, 2].slice(0, (n % 3) + 1).map((k) => ({
    description: ITEMS[(n + k) % ITEMS.length] ?? 'Item',
    quantity: ((n + k) % 4) + 1,
    unitCents: 250 + ((n * 37 + k * 101) % 5000),
  }));
  const subtotal = items.reduce((s, i) => s + i.quantity * i.unitCents, 0);
  const tax = Math.round(subtotal * 0.2);
  const number = `INV-${10_000 + n}`;
  const rows: (string | [string, string])[] = [
    seller,
    `${(n % 90) + 1} Harbour Street, Bristol`,
    '',
    'INVOICE',
    ['Invoice number:', number],
    ['Invoice date:', `${day} ${MONTHS[month]} 2025`],
    ['Bill to:', buyer],
    ...extraRows,
    '',
    ['Description', 'Amount'],
    ...items.map((i): [string, string] => [
      `${i.description} x ${i.quantity}`,
      money(i.quantity * i.unitCents),
    ]),
    '',
    ['Subtotal', money(subtotal)],
    ['VAT 20%', money(tax)],
    ['Total due', `GBP ${money(subtotal + tax)}`],
  ];
  return {
    type: 'invoice',
    lines: layout(rows),
    expected: {
      invoice_number: number,
      invoice_date: `2025-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      seller_name: seller,
      total_amount: (subtotal + tax) / 100,
    },
  };
}

/** A small, varied till receipt. */
export function receiptDocument(n: number): GeneratedDocument {
  const merchant = MERCHANTS[n % MERCHANTS.length] ?? 'Corner Cafe';
  const day = (n % 27) + 1;
  const month = (n % 9) + 1;
  const lines = [0, 1, 2, 3].slice(0, (n % 4) + 1).map((k) => ({
    name: ITEMS[(n + k) % ITEMS.length] ?? 'Item',
    cents: 120 + ((n * 53 + k * 71) % 2000),
  }));
  const total = lines.reduce((s, l) => s + l.cents, 0);
  const date = `${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')}/2025`;
  const rows: (string | [string, string])[] = [
    merchant.toUpperCase(),
    `${(n % 50) + 1} Market Square`,
    ['Date:', `${date} 12:${String(n % 60).padStart(2, '0')}`],
    ['Receipt no:', `R${100_000 + n}`],
    '',
    ...lines.map((l): [string, string] => [l.name, money(l.cents)]),
    '',
    ['TOTAL', money(total)],
    ['Card payment', money(total)],
    'Thank you for your visit',
  ];
  return {
    type: 'receipt',
    lines: layout(rows),
    expected: {
      merchant_name: merchant.toUpperCase(),
      date: `2025-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      total: total / 100,
    },
  };
}

/** A deterministic pseudo-random byte string (a linear congruential generator: reproducible, fast). */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A real ZIP archive (stored and deflated entries, central directory, CRCs) holding `files`. */
export function zipArchive(files: Record<string, string>): Uint8Array {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const packed = deflateRawSync(data);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(packed.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    central.push(header, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, dir, end]));
}

/** The smallest Word document that Word itself recognises by its parts. */
export function docxArchive(): Uint8Array {
  return zipArchive({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    'word/document.xml':
      '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Invoice 1</w:t></w:r></w:p></w:body></w:document>',
  });
}

/** A baseline JPEG header whose frame (SOF0) claims `width` × `height` px, with no scan data. */
export function jpegHeader(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8, // SOI
    0xff,
    0xc0,
    0x00,
    0x0b,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x01,
    0x01,
    0x11,
    0x00,
    0xff,
    0xd9, // EOI
  ]);
}

/** A little-endian TIFF whose first IFD claims `width` × `height` px (LONG values), with no strips. */
export function tiffHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 2 + 2 * 12 + 4);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, 2, true);
  [
    [256, width],
    [257, height],
  ].forEach(([tag, value], i) => {
    const at = 10 + i * 12;
    dv.setUint16(at, tag ?? 0, true);
    dv.setUint16(at + 2, 4, true);
    dv.setUint32(at + 4, 1, true);
    dv.setUint32(at + 8, value ?? 0, true);
  });
  return bytes;
}
