/**
 * Writes the sample documents under samples/ together with the record a perfect extractor would
 * produce for each one. Documents and expected records are drawn from the same data below, so
 * they cannot drift apart. Output is byte-for-byte reproducible (test/unit/samples.test.ts checks).
 *
 *   npm run samples               # into samples/
 *   node scripts/make-samples.ts DIR
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mupdf from 'mupdf';
import { LineCapStyle, PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from 'pdf-lib';

// pdf-lib stamps "now" and its own name into every file unless told otherwise; pinning them is
// what makes the PDFs reproducible.
const FIXED_DATE = new Date('2025-03-14T09:00:00Z');
const PRODUCER = 'docbatch make-samples';

const A4 = { width: 595.28, height: 841.89 } as const;
const BLACK = rgb(0, 0, 0);
const GREY = rgb(0.4, 0.4, 0.4);
const RULE = rgb(0.75, 0.75, 0.75);
const HEADER_FILL = rgb(0.9, 0.9, 0.9);

interface Item {
  description: string;
  quantity: number;
  /** Integer minor units, so that every sum below is exact. */
  unitCents: number;
}

interface Party {
  name: string;
  lines: string[];
}

interface InvoiceSample {
  file: string;
  title: string;
  number: string;
  /** ISO dates for the record; `printed*` is how the document shows them. */
  date: string;
  printedDate: string;
  dueDate: string;
  printedDueDate: string;
  seller: Party;
  buyer: Party;
  currency: string;
  symbol: string;
  /** Tax rate in whole percent. */
  taxPercent: number;
  items: Item[];
}

interface Totals {
  lineCents: number[];
  subtotal: number;
  tax: number;
  total: number;
}

function totals(items: Item[], taxPercent: number): Totals {
  const lineCents = items.map((item) => {
    const cents = item.quantity * item.unitCents;
    // A fractional line (7.5 h at an odd rate) would need rounding, and then the printed
    // amounts would no longer be what the record says they are.
    if (!Number.isInteger(cents)) throw new Error(`"${item.description}" does not come to whole cents`);
    return cents;
  });
  const subtotal = lineCents.reduce((a, b) => a + b, 0);
  const taxTimes100 = subtotal * taxPercent;
  if (taxTimes100 % 100 !== 0) throw new Error(`${taxPercent}% of ${subtotal} cents is not whole cents`);
  const tax = taxTimes100 / 100;
  return { lineCents, subtotal, tax, total: subtotal + tax };
}

function money(cents: number): string {
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${whole}.${String(cents % 100).padStart(2, '0')}`;
}

const toUnits = (cents: number): number => cents / 100;

// ---------------------------------------------------------------------------------------------
// Sample data

const ACME: InvoiceSample = {
  file: 'invoice/acme-invoice-2041',
  title: 'Invoice INV-2041',
  number: 'INV-2041',
  date: '2025-03-14',
  printedDate: '14 March 2025',
  dueDate: '2025-04-13',
  printedDueDate: '13 April 2025',
  seller: {
    name: 'Acme Industrial Supplies Ltd',
    lines: ['Unit 7, Foundry Park', '42 Foundry Lane', 'Sheffield S3 8AB', 'United Kingdom'],
  },
  buyer: {
    name: 'Globex Corporation',
    lines: ['Attn: Accounts Payable', '18 Canal Street', 'Manchester M1 3HE', 'United Kingdom'],
  },
  currency: 'GBP',
  symbol: '£',
  taxPercent: 20,
  items: [
    { description: 'Hex bolts M8 x 40 mm, zinc plated (box of 100)', quantity: 12, unitCents: 875 },
    { description: 'Hex nuts M8, zinc plated (box of 200)', quantity: 12, unitCents: 640 },
    { description: 'Flat washers M8 (box of 500)', quantity: 6, unitCents: 595 },
    { description: 'Safety gloves, nitrile, size L (pack of 12)', quantity: 10, unitCents: 1450 },
    { description: 'Safety glasses, clear, anti-fog', quantity: 25, unitCents: 420 },
    { description: 'Hi-vis vest, EN ISO 20471, size XL', quantity: 15, unitCents: 385 },
    { description: 'Cable ties 300 x 4.8 mm, black (bag of 100)', quantity: 20, unitCents: 260 },
    { description: 'Electrical tape 19 mm x 20 m (pack of 10)', quantity: 8, unitCents: 790 },
    { description: 'Cordless drill 18 V with 2 batteries', quantity: 2, unitCents: 12900 },
    { description: 'HSS drill bit set, 19 pieces', quantity: 4, unitCents: 1850 },
    { description: 'Angle grinder 115 mm, 750 W', quantity: 1, unitCents: 6495 },
    { description: 'Cutting discs 115 mm, stainless (pack of 25)', quantity: 6, unitCents: 1725 },
    { description: 'Spray paint, safety yellow, 400 ml', quantity: 24, unitCents: 510 },
    { description: 'Masking tape 50 mm x 50 m', quantity: 30, unitCents: 195 },
    { description: 'Workshop rags, white (10 kg bale)', quantity: 3, unitCents: 2240 },
    { description: 'Degreaser concentrate, 5 L', quantity: 5, unitCents: 1680 },
    { description: 'Spill kit, general purpose, 50 L', quantity: 1, unitCents: 8900 },
    { description: 'Steel shelving unit 1800 x 900 x 450 mm', quantity: 3, unitCents: 7450 },
    { description: 'Parts bins, size 3, blue (pack of 12)', quantity: 4, unitCents: 2160 },
    { description: 'Pallet wrap 400 mm x 250 m, 17 micron', quantity: 12, unitCents: 935 },
    { description: 'Packing tape 48 mm x 66 m, brown (pack of 6)', quantity: 10, unitCents: 675 },
    { description: 'Cardboard boxes 457 x 305 x 305 mm (bundle of 25)', quantity: 8, unitCents: 2800 },
    { description: 'LED work light 20 W, rechargeable', quantity: 3, unitCents: 3495 },
    { description: 'Extension reel 25 m, 4 sockets, 240 V', quantity: 2, unitCents: 4200 },
    { description: 'First aid kit, BS 8599-1, medium', quantity: 2, unitCents: 3120 },
    { description: 'Ear defenders, SNR 30 dB', quantity: 10, unitCents: 845 },
    { description: 'Dust masks FFP2, valved (box of 10)', quantity: 6, unitCents: 1530 },
    { description: 'Torque wrench 1/2" drive, 40-210 Nm', quantity: 1, unitCents: 5875 },
    { description: 'Socket set 1/2" drive, 24 pieces', quantity: 1, unitCents: 4620 },
    { description: 'Delivery charge, next working day', quantity: 1, unitCents: 1250 },
  ],
};

const NORTHWIND: InvoiceSample = {
  file: 'invoice/northwind-invoice-7731',
  title: 'Invoice NW-7731',
  number: 'NW-7731',
  date: '2025-02-28',
  printedDate: '28.02.2025',
  dueDate: '2025-03-30',
  printedDueDate: '30.03.2025',
  seller: {
    name: 'Northwind Traders B.V.',
    lines: ['Keizersgracht 221', '1016 DV Amsterdam', 'Netherlands'],
  },
  buyer: {
    name: 'Contoso Retail B.V.',
    lines: ['Attn. Finance Department', 'Stationsplein 45', '3013 AK Rotterdam', 'Netherlands'],
  },
  currency: 'EUR',
  symbol: '€',
  taxPercent: 21,
  items: [
    { description: 'Espresso machine, dual boiler, model NW-500', quantity: 2, unitCents: 124900 },
    { description: 'Coffee grinder, flat burr 64 mm', quantity: 2, unitCents: 38900 },
    { description: 'Arabica beans, single origin Colombia (1 kg)', quantity: 24, unitCents: 1875 },
    { description: 'Milk pitcher, stainless steel, 600 ml', quantity: 6, unitCents: 1250 },
    { description: 'Descaling tablets (pack of 40)', quantity: 4, unitCents: 975 },
    { description: 'Installation and barista training (hours)', quantity: 7.5, unitCents: 8600 },
    { description: 'Delivery and installation travel, flat rate', quantity: 1, unitCents: 9500 },
  ],
};

const RECEIPT = {
  file: 'receipt/corner-cafe-receipt',
  merchant: 'The Corner Cafe',
  addressLines: ['12 Market Street', 'Brighton BN1 1AE'],
  phone: 'Tel: 01273 555 014',
  vatNumber: 'VAT No: GB 319 4402 18',
  date: '2024-12-25',
  printedDate: '25/12/2024',
  printedTime: '09:41',
  table: '4',
  server: 'Maria',
  receiptNumber: '000482',
  items: [
    { description: 'Flat White', quantity: 2, unitCents: 340 },
    { description: 'Croissant', quantity: 1, unitCents: 275 },
    { description: 'Avocado Toast', quantity: 1, unitCents: 795 },
    { description: 'Orange Juice', quantity: 1, unitCents: 320 },
  ] satisfies Item[],
  taxPercent: 20,
  cashCents: 3000,
  currency: 'GBP',
  symbol: '£',
};

// An HTML page saved with a .pdf name: the pipeline must go by magic bytes and refuse it.
const NOT_A_RECEIPT = {
  file: 'receipt/not-a-receipt.pdf',
  body:
    '<!DOCTYPE html>\n<html><head><title>Order confirmation</title></head>\n' +
    '<body><p>Thanks for your order! Your receipt is attached.</p></body></html>\n',
};

// ---------------------------------------------------------------------------------------------
// Drawing helpers

type Align = 'left' | 'right' | 'center';

function text(
  page: PDFPage,
  s: string,
  x: number,
  y: number,
  font: PDFFont,
  size: number,
  align: Align = 'left',
) {
  const width = font.widthOfTextAtSize(s, size);
  const left = align === 'right' ? x - width : align === 'center' ? x - width / 2 : x;
  page.drawText(s, { x: left, y, font, size, color: BLACK });
}

function fitText(
  page: PDFPage,
  s: string,
  x: number,
  y: number,
  font: PDFFont,
  size: number,
  maxWidth: number,
) {
  // Shrinking or clipping would silently change what the document says, so refuse instead.
  if (font.widthOfTextAtSize(s, size) > maxWidth) throw new Error(`"${s}" does not fit in ${maxWidth}pt`);
  text(page, s, x, y, font, size);
}

function rule(page: PDFPage, x1: number, x2: number, y: number, thickness = 0.75, color = RULE) {
  page.drawLine({ start: { x: x1, y }, end: { x: x2, y }, thickness, color });
}

async function newDocument(title: string, author: string): Promise<PDFDocument> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(title);
  doc.setAuthor(author);
  doc.setCreator(PRODUCER);
  doc.setProducer(PRODUCER);
  doc.setCreationDate(FIXED_DATE);
  doc.setModificationDate(FIXED_DATE);
  return doc;
}

const formatQuantity = (q: number): string => (Number.isInteger(q) ? String(q) : q.toFixed(1));

// ---------------------------------------------------------------------------------------------
// Acme: classic layout, table runs over onto page 2

async function acmeInvoice(s: InvoiceSample): Promise<Uint8Array> {
  const doc = await newDocument(s.title, s.seller.name);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const t = totals(s.items, s.taxPercent);
  const L = 50;
  const R = A4.width - 50;
  const col = { qty: 380, unit: 460, amount: R };
  const rowHeight = 17;
  const bottom = 110;
  const pageCount = 2;

  const footer = (page: PDFPage, n: number) => {
    rule(page, L, R, 62);
    text(
      page,
      `${s.seller.name} | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37`,
      A4.width / 2,
      48,
      regular,
      8,
      'center',
    );
    text(page, `Page ${n} of ${pageCount}`, A4.width / 2, 34, regular, 8, 'center');
  };

  const tableHeader = (page: PDFPage, y: number) => {
    page.drawRectangle({ x: L, y: y - 6, width: R - L, height: 20, color: HEADER_FILL });
    text(page, 'Description', L + 6, y, bold, 10);
    text(page, 'Qty', col.qty, y, bold, 10, 'right');
    text(page, 'Unit Price', col.unit, y, bold, 10, 'right');
    text(page, 'Amount', col.amount - 6, y, bold, 10, 'right');
    return y - 22;
  };

  // Page 1: letterhead, invoice details, parties.
  const page1 = doc.addPage([A4.width, A4.height]);
  text(page1, s.seller.name, L, 790, bold, 18);
  let y = 772;
  for (const line of [...s.seller.lines, 'Tel: +44 114 496 0321 | accounts@acme-industrial.example']) {
    text(page1, line, L, y, regular, 9.5);
    y -= 12.5;
  }
  text(page1, 'INVOICE', R, 786, bold, 26, 'right');
  const meta: [string, string][] = [
    ['Invoice Number:', s.number],
    ['Invoice Date:', s.printedDate],
    ['Due Date:', s.printedDueDate],
    ['Purchase Order:', 'PO-55310'],
  ];
  y = 752;
  for (const [label, value] of meta) {
    text(page1, label, 372, y, bold, 10);
    text(page1, value, R, y, regular, 10, 'right');
    y -= 15;
  }
  rule(page1, L, R, 700);
  text(page1, 'Bill To:', L, 680, bold, 10);
  text(page1, s.buyer.name, L, 664, bold, 11);
  y = 650;
  for (const line of s.buyer.lines) {
    text(page1, line, L, y, regular, 10);
    y -= 13;
  }
  text(page1, 'Payment Terms:', 372, 680, bold, 10);
  text(page1, 'Net 30 days', R, 680, regular, 10, 'right');
  text(page1, 'Currency:', 372, 665, bold, 10);
  text(page1, s.currency, R, 665, regular, 10, 'right');

  // The item table, broken across pages wherever the space runs out.
  let page = page1;
  let pageNo = 1;
  y = tableHeader(page1, 580);
  s.items.forEach((item, i) => {
    if (y < bottom) {
      text(page, `Continued on page ${pageNo + 1}`, R, y - 4, regular, 9, 'right');
      footer(page, pageNo);
      pageNo += 1;
      page = doc.addPage([A4.width, A4.height]);
      text(page, s.seller.name, L, 790, bold, 12);
      text(page, `Invoice ${s.number} (continued)`, R, 790, regular, 10, 'right');
      rule(page, L, R, 776);
      y = tableHeader(page, 750);
    }
    fitText(page, item.description, L + 6, y, regular, 9.5, col.qty - 40 - (L + 6));
    text(page, formatQuantity(item.quantity), col.qty, y, regular, 9.5, 'right');
    text(page, money(item.unitCents), col.unit, y, regular, 9.5, 'right');
    text(page, money(t.lineCents[i] ?? 0), col.amount - 6, y, regular, 9.5, 'right');
    rule(page, L, R, y - 6, 0.4);
    y -= rowHeight;
  });
  if (pageNo !== pageCount)
    throw new Error(`expected the table to end on page ${pageCount}, it ended on ${pageNo}`);

  y -= 14;
  const sums: [string, string, PDFFont][] = [
    ['Subtotal', `${s.symbol}${money(t.subtotal)}`, regular],
    [`VAT (${s.taxPercent}%)`, `${s.symbol}${money(t.tax)}`, regular],
  ];
  for (const [label, value, font] of sums) {
    text(page, label, 372, y, font, 10.5);
    text(page, value, col.amount - 6, y, font, 10.5, 'right');
    y -= 17;
  }
  rule(page, 366, R, y + 10, 1, BLACK);
  y -= 6;
  text(page, `Total (${s.currency})`, 372, y, bold, 12);
  text(page, `${s.symbol}${money(t.total)}`, col.amount - 6, y, bold, 12, 'right');

  y -= 50;
  text(page, 'Payment details', L, y, bold, 10);
  const payment = [
    `Please pay within 30 days, quoting invoice number ${s.number}.`,
    'Bank: Northbridge Bank plc | Sort code: 20-45-77 | Account: 43917265',
    'IBAN: GB29 NBRB 2045 7743 9172 65 | BIC: NBRBGB2L',
  ];
  for (const line of payment) {
    y -= 14;
    text(page, line, L, y, regular, 9.5);
  }
  y -= 28;
  text(page, 'Thank you for your business.', L, y, regular, 9.5);
  footer(page, pageNo);

  return doc.save();
}

// ---------------------------------------------------------------------------------------------
// Northwind: key-value block on the right, different labels, euro amounts, one page

async function northwindInvoice(s: InvoiceSample): Promise<Uint8Array> {
  const doc = await newDocument(s.title, s.seller.name);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const t = totals(s.items, s.taxPercent);
  const L = 56;
  const R = A4.width - 56;
  const page = doc.addPage([A4.width, A4.height]);
  const accent = rgb(0.12, 0.33, 0.45);

  page.drawRectangle({ x: 0, y: A4.height - 18, width: A4.width, height: 18, color: accent });
  text(page, s.seller.name, L, 770, bold, 20);
  let y = 752;
  for (const line of s.seller.lines) {
    text(page, line, L, y, regular, 9.5);
    y -= 12;
  }
  text(page, 'VAT no. NL853129764B01 | KvK 71234567', L, y, regular, 9.5);

  const kv: [string, string][] = [
    ['Inv. No.', s.number],
    ['Date of issue', s.printedDate],
    ['Due date', s.printedDueDate],
    ['Order ref.', 'WEB-20931'],
  ];
  const boxTop = 782;
  page.drawRectangle({
    x: 340,
    y: boxTop - kv.length * 18 - 8,
    width: R - 340,
    height: kv.length * 18 + 8,
    borderColor: accent,
    borderWidth: 1,
  });
  y = boxTop - 16;
  for (const [label, value] of kv) {
    text(page, label, 350, y, regular, 10);
    text(page, value, R - 10, y, bold, 10, 'right');
    y -= 18;
  }

  text(page, 'Invoice', L, 662, bold, 28);

  page.drawText('CUSTOMER', { x: L, y: 630, font: bold, size: 8.5, color: GREY });
  text(page, s.buyer.name, L, 615, bold, 11);
  y = 601;
  for (const line of s.buyer.lines) {
    text(page, line, L, y, regular, 10);
    y -= 13;
  }

  const col = { pos: L + 4, item: L + 30, qty: 378, price: 456, total: R - 4 };
  y = 512;
  page.drawLine({
    start: { x: L, y: y + 14 },
    end: { x: R, y: y + 14 },
    thickness: 1.5,
    color: accent,
    lineCap: LineCapStyle.Butt,
  });
  text(page, 'Pos.', col.pos, y, bold, 9.5);
  text(page, 'Item', col.item, y, bold, 9.5);
  text(page, 'Quantity', col.qty, y, bold, 9.5, 'right');
  text(page, 'Unit price', col.price, y, bold, 9.5, 'right');
  text(page, `Line total (${s.currency})`, col.total, y, bold, 9.5, 'right');
  rule(page, L, R, y - 6, 1, accent);
  y -= 24;
  s.items.forEach((item, i) => {
    text(page, String(i + 1), col.pos, y, regular, 9.5);
    fitText(page, item.description, col.item, y, regular, 9.5, col.qty - 50 - col.item);
    text(page, formatQuantity(item.quantity), col.qty, y, regular, 9.5, 'right');
    text(page, money(item.unitCents), col.price, y, regular, 9.5, 'right');
    text(page, money(t.lineCents[i] ?? 0), col.total, y, regular, 9.5, 'right');
    y -= 20;
  });
  rule(page, L, R, y + 12, 1, accent);

  y -= 12;
  const sums: [string, string][] = [
    ['Net amount', `${s.symbol} ${money(t.subtotal)}`],
    [`VAT ${s.taxPercent}%`, `${s.symbol} ${money(t.tax)}`],
  ];
  for (const [label, value] of sums) {
    text(page, label, 360, y, regular, 10.5);
    text(page, value, col.total, y, regular, 10.5, 'right');
    y -= 17;
  }
  y -= 8;
  page.drawRectangle({ x: 350, y: y - 9, width: R - 350, height: 26, color: accent });
  page.drawText('Amount Due', { x: 360, y, font: bold, size: 12, color: rgb(1, 1, 1) });
  const due = `${s.symbol} ${money(t.total)}`;
  page.drawText(due, {
    x: col.total - bold.widthOfTextAtSize(due, 12),
    y,
    font: bold,
    size: 12,
    color: rgb(1, 1, 1),
  });

  y -= 60;
  const notes = [
    `Please transfer the amount due by ${s.printedDueDate}, quoting ${s.number}.`,
    'IBAN: NL91 ABNA 0417 1643 00 | BIC: ABNANL2A',
    'Goods remain the property of Northwind Traders B.V. until paid in full.',
  ];
  for (const line of notes) {
    text(page, line, L, y, regular, 9.5);
    y -= 14;
  }

  rule(page, L, R, 60, 0.75, accent);
  text(
    page,
    `${s.seller.name} | Keizersgracht 221, 1016 DV Amsterdam | orders@northwind-traders.example`,
    A4.width / 2,
    46,
    regular,
    8,
    'center',
  );
  return doc.save();
}

// ---------------------------------------------------------------------------------------------
// Receipt: a narrow till slip laid out as a PDF, then rasterised so only OCR can read it

const RECEIPT_DPI = 300;

async function receiptPdf(r: typeof RECEIPT): Promise<Uint8Array> {
  const items = r.items;
  const t = totals(items, r.taxPercent);
  const width = 80 * (72 / 25.4); // 80 mm till roll
  const margin = 14;
  const size = 11;
  const lineHeight = 16;
  const doc = await newDocument(r.merchant, r.merchant);
  // Not a till-style Courier: tesseract reads its "1" as "l" and would garble the postcode.
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const big = await doc.embedFont(StandardFonts.HelveticaBold);

  type Row =
    | { kind: 'center'; s: string; font?: PDFFont; size?: number }
    | { kind: 'pair'; left: string; right: string }
    | { kind: 'rule' }
    | { kind: 'gap' };
  const rows: Row[] = [
    { kind: 'center', s: r.merchant, font: big, size: 17 },
    { kind: 'gap' },
    ...r.addressLines.map((s): Row => ({ kind: 'center', s })),
    { kind: 'center', s: r.phone },
    { kind: 'center', s: r.vatNumber },
    { kind: 'rule' },
    { kind: 'pair', left: `Date: ${r.printedDate}`, right: `Time: ${r.printedTime}` },
    { kind: 'pair', left: `Table: ${r.table}`, right: `Server: ${r.server}` },
    { kind: 'pair', left: 'Receipt No:', right: r.receiptNumber },
    { kind: 'rule' },
    ...items.map(
      (item, i): Row => ({
        kind: 'pair',
        left: `${item.quantity} x ${item.description}`,
        right: money(t.lineCents[i] ?? 0),
      }),
    ),
    { kind: 'rule' },
    { kind: 'pair', left: 'SUBTOTAL', right: money(t.subtotal) },
    { kind: 'pair', left: `TAX (VAT ${r.taxPercent}%)`, right: money(t.tax) },
    { kind: 'pair', left: 'TOTAL', right: `${r.symbol}${money(t.total)}` },
    { kind: 'gap' },
    { kind: 'pair', left: 'CASH', right: `${r.symbol}${money(r.cashCents)}` },
    { kind: 'pair', left: 'CHANGE', right: `${r.symbol}${money(r.cashCents - t.total)}` },
    { kind: 'rule' },
    { kind: 'center', s: 'Thank you for visiting!' },
    { kind: 'center', s: 'Please come again' },
  ];

  const height = 2 * margin + 10 + rows.length * lineHeight;
  const page = doc.addPage([width, height]);
  let y = height - margin - 18;
  for (const row of rows) {
    if (row.kind === 'center') text(page, row.s, width / 2, y, row.font ?? font, row.size ?? size, 'center');
    if (row.kind === 'pair') {
      text(page, row.left, margin, y, font, size);
      text(page, row.right, width - margin, y, font, size, 'right');
      const room = width - 2 * margin - font.widthOfTextAtSize(row.right, size) - 6;
      if (font.widthOfTextAtSize(row.left, size) > room)
        throw new Error(`receipt line "${row.left}" is too wide`);
    }
    if (row.kind === 'rule') {
      page.drawLine({
        start: { x: margin, y: y + 4 },
        end: { x: width - margin, y: y + 4 },
        thickness: 1,
        color: BLACK,
        dashArray: [3, 3],
      });
    }
    y -= lineHeight;
  }
  return doc.save();
}

function renderPng(pdf: Uint8Array, dpi: number): Uint8Array {
  const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
  try {
    const page = doc.loadPage(0);
    // Grey, no alpha: a third of the bytes of RGB and what a scanner would hand over anyway.
    const pixmap = page.toPixmap(mupdf.Matrix.scale(dpi / 72, dpi / 72), mupdf.ColorSpace.DeviceGray, false);
    pixmap.setResolution(dpi, dpi);
    const png = pixmap.asPNG();
    pixmap.destroy();
    page.destroy();
    return png;
  } finally {
    doc.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Expected records and README

function invoiceRecord(s: InvoiceSample) {
  const t = totals(s.items, s.taxPercent);
  return {
    invoice_number: s.number,
    invoice_date: s.date,
    due_date: s.dueDate,
    seller_name: s.seller.name,
    buyer_name: s.buyer.name,
    currency: s.currency,
    subtotal: toUnits(t.subtotal),
    tax_amount: toUnits(t.tax),
    total_amount: toUnits(t.total),
    line_items: s.items.map((item, i) => ({
      description: item.description,
      quantity: item.quantity,
      unit_price: toUnits(item.unitCents),
      amount: toUnits(t.lineCents[i] ?? 0),
    })),
  };
}

function receiptRecord(r: typeof RECEIPT) {
  return {
    merchant_name: r.merchant,
    merchant_address: r.addressLines.join(', '),
    date: r.date,
    total: toUnits(totals(r.items, r.taxPercent).total),
    currency: r.currency,
  };
}

const README = `# Sample documents

Generated by \`npm run samples\` (scripts/make-samples.ts), which rewrites every file here byte for byte
the same, so edit the script rather than these files. \`documents/\` holds the inputs:
\`invoice/acme-invoice-2041.pdf\` is a born-digital two-page GBP invoice whose item table continues on
page 2 (written dates, VAT 20%); \`invoice/northwind-invoice-7731.pdf\` is a one-page EUR invoice with a
different layout (key-value block on the right, "Inv. No." / "Date of issue" / "Amount Due", dd.mm.yyyy
dates, VAT 21%); \`receipt/corner-cafe-receipt.png\` is a till receipt rendered as a 300 dpi greyscale
image with no text layer, so it can only be read by OCR; and \`receipt/not-a-receipt.pdf\` is an HTML page
with a .pdf name that must be rejected as an unsupported media type. \`expected/<type>/<stem>.json\` is the
record a perfect extractor would produce for each document, and \`expected/rejected.json\` lists the
documents (relative to \`documents/\`) that must be rejected instead.
`;

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

// ---------------------------------------------------------------------------------------------

/** Writes every sample under `outDir` and returns the paths written, relative to it. */
export async function makeSamples(outDir: string): Promise<string[]> {
  const files: [string, Uint8Array | string][] = [
    [`documents/${ACME.file}.pdf`, await acmeInvoice(ACME)],
    [`expected/${ACME.file}.json`, json(invoiceRecord(ACME))],
    [`documents/${NORTHWIND.file}.pdf`, await northwindInvoice(NORTHWIND)],
    [`expected/${NORTHWIND.file}.json`, json(invoiceRecord(NORTHWIND))],
    [`documents/${RECEIPT.file}.png`, renderPng(await receiptPdf(RECEIPT), RECEIPT_DPI)],
    [`expected/${RECEIPT.file}.json`, json(receiptRecord(RECEIPT))],
    [`documents/${NOT_A_RECEIPT.file}`, NOT_A_RECEIPT.body],
    ['expected/rejected.json', json([NOT_A_RECEIPT.file])],
    ['README.md', README],
  ];
  for (const [path, content] of files) {
    const target = join(outDir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return files.map(([path]) => path);
}

if (import.meta.main) {
  const arg = process.argv[2];
  const outDir = arg ? resolve(arg) : fileURLToPath(new URL('../samples/', import.meta.url));
  const written = await makeSamples(outDir);
  for (const path of written) console.log(join(outDir, path));
}
