/**
 * The sample invoices (samples/documents/invoice) as the rules model receives them, in the
 * text shapes linearizers produce: (a) lines in reading order, cells of one visual row joined
 * with two spaces, two columns merged on one line; (b) layout-aware reading order, tables as
 * Markdown rows and form fields as `Key: value` lines; and the two mixed (form fields as
 * pairs, still sharing rows). Every shape must give exactly the expected record.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  extractBySchema,
  type JSONSchemaObject,
} from '../../../../../src/adapters/local/bedrock/rules-model.ts';

const ROOT = join(import.meta.dirname, '../../../../..');
const invoiceSchema = JSON.parse(
  readFileSync(join(ROOT, 'schemas/invoice.schema.json'), 'utf8'),
) as JSONSchemaObject;

function expected(name: string): unknown {
  return JSON.parse(readFileSync(join(ROOT, 'samples/expected/invoice', `${name}.json`), 'utf8'));
}

// Shape (a): the text the row-joining linearizer printed for the samples' text layers.
const ACME_ROWS = `--- page 1 ---
Acme Industrial Supplies Ltd  INVOICE
Unit 7, Foundry Park
42 Foundry Lane
Sheffield S3 8AB  Invoice Number:  INV-2041
United Kingdom  Invoice Date:  14 March 2025
Tel: +44 114 496 0321 | accounts@acme-industrial.example  Due Date:  13 April 2025
Purchase Order:  PO-55310
Bill To:  Payment Terms:  Net 30 days
Globex Corporation  Currency:  GBP
Attn: Accounts Payable
18 Canal Street
Manchester M1 3HE
United Kingdom
Description  Qty  Unit Price  Amount
Hex bolts M8 x 40 mm, zinc plated (box of 100)  12  8.75  105.00
Hex nuts M8, zinc plated (box of 200)  12  6.40  76.80
Flat washers M8 (box of 500)  6  5.95  35.70
Safety gloves, nitrile, size L (pack of 12)  10  14.50  145.00
Safety glasses, clear, anti-fog  25  4.20  105.00
Hi-vis vest, EN ISO 20471, size XL  15  3.85  57.75
Cable ties 300 x 4.8 mm, black (bag of 100)  20  2.60  52.00
Electrical tape 19 mm x 20 m (pack of 10)  8  7.90  63.20
Cordless drill 18 V with 2 batteries  2  129.00  258.00
HSS drill bit set, 19 pieces  4  18.50  74.00
Angle grinder 115 mm, 750 W  1  64.95  64.95
Cutting discs 115 mm, stainless (pack of 25)  6  17.25  103.50
Spray paint, safety yellow, 400 ml  24  5.10  122.40
Masking tape 50 mm x 50 m  30  1.95  58.50
Workshop rags, white (10 kg bale)  3  22.40  67.20
Degreaser concentrate, 5 L  5  16.80  84.00
Spill kit, general purpose, 50 L  1  89.00  89.00
Steel shelving unit 1800 x 900 x 450 mm  3  74.50  223.50
Parts bins, size 3, blue (pack of 12)  4  21.60  86.40
Pallet wrap 400 mm x 250 m, 17 micron  12  9.35  112.20
Packing tape 48 mm x 66 m, brown (pack of 6)  10  6.75  67.50
Cardboard boxes 457 x 305 x 305 mm (bundle of 25)  8  28.00  224.00
LED work light 20 W, rechargeable  3  34.95  104.85
Extension reel 25 m, 4 sockets, 240 V  2  42.00  84.00
First aid kit, BS 8599-1, medium  2  31.20  62.40
Ear defenders, SNR 30 dB  10  8.45  84.50
Dust masks FFP2, valved (box of 10)  6  15.30  91.80
Continued on page 2
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 1 of 2
--- page 2 ---
Acme Industrial Supplies Ltd  Invoice INV-2041 (continued)
Description  Qty  Unit Price  Amount
Torque wrench 1/2" drive, 40-210 Nm  1  58.75  58.75
Socket set 1/2" drive, 24 pieces  1  46.20  46.20
Delivery charge, next working day  1  12.50  12.50
Subtotal  £2,820.60
VAT (20%)  £564.12
Total (GBP)  £3,384.72
Payment details
Please pay within 30 days, quoting invoice number INV-2041.
Bank: Northbridge Bank plc | Sort code: 20-45-77 | Account: 43917265
IBAN: GB29 NBRB 2045 7743 9172 65 | BIC: NBRBGB2L
Thank you for your business.
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 2 of 2`;

const NORTHWIND_ROWS = `--- page 1 ---
Northwind Traders B.V.  Inv. No.  NW-7731
Keizersgracht 221  Date of issue  28.02.2025
1016 DV Amsterdam
Netherlands  Due date  30.03.2025
VAT no. NL853129764B01 | KvK 71234567  Order ref.  WEB-20931
Invoice
CUSTOMER
Contoso Retail B.V.
Attn. Finance Department
Stationsplein 45
3013 AK Rotterdam
Netherlands
Pos. Item  Quantity  Unit price  Line total (EUR)
1  Espresso machine, dual boiler, model NW-500  2  1,249.00  2,498.00
2  Coffee grinder, flat burr 64 mm  2  389.00  778.00
3  Arabica beans, single origin Colombia (1 kg)  24  18.75  450.00
4  Milk pitcher, stainless steel, 600 ml  6  12.50  75.00
5  Descaling tablets (pack of 40)  4  9.75  39.00
6  Installation and barista training (hours)  7.5  86.00  645.00
7  Delivery and installation travel, flat rate  1  95.00  95.00
Net amount  € 4,580.00
VAT 21%  € 961.80
Amount Due  € 5,541.80
Please transfer the amount due by 30.03.2025, quoting NW-7731.
IBAN: NL91 ABNA 0417 1643 00 | BIC: ABNANL2A
Goods remain the property of Northwind Traders B.V. until paid in full.
Northwind Traders B.V. | Keizersgracht 221, 1016 DV Amsterdam | orders@northwind-traders.example`;

// Shape (b): columns read one after the other, Markdown tables, `Key: value` form fields.
const ACME_LAYOUT = `--- page 1 ---
Acme Industrial Supplies Ltd
Unit 7, Foundry Park
42 Foundry Lane
Sheffield S3 8AB
United Kingdom
Tel: +44 114 496 0321 | accounts@acme-industrial.example
INVOICE
Invoice Number: INV-2041
Invoice Date: 14 March 2025
Due Date: 13 April 2025
Purchase Order: PO-55310
Payment Terms: Net 30 days
Currency: GBP
Bill To:
Globex Corporation
Attn: Accounts Payable
18 Canal Street
Manchester M1 3HE
United Kingdom
| Description | Qty | Unit Price | Amount |
| --- | --- | --- | --- |
| Hex bolts M8 x 40 mm, zinc plated (box of 100) | 12 | 8.75 | 105.00 |
| Hex nuts M8, zinc plated (box of 200) | 12 | 6.40 | 76.80 |
| Flat washers M8 (box of 500) | 6 | 5.95 | 35.70 |
| Safety gloves, nitrile, size L (pack of 12) | 10 | 14.50 | 145.00 |
| Safety glasses, clear, anti-fog | 25 | 4.20 | 105.00 |
| Hi-vis vest, EN ISO 20471, size XL | 15 | 3.85 | 57.75 |
| Cable ties 300 x 4.8 mm, black (bag of 100) | 20 | 2.60 | 52.00 |
| Electrical tape 19 mm x 20 m (pack of 10) | 8 | 7.90 | 63.20 |
| Cordless drill 18 V with 2 batteries | 2 | 129.00 | 258.00 |
| HSS drill bit set, 19 pieces | 4 | 18.50 | 74.00 |
| Angle grinder 115 mm, 750 W | 1 | 64.95 | 64.95 |
| Cutting discs 115 mm, stainless (pack of 25) | 6 | 17.25 | 103.50 |
| Spray paint, safety yellow, 400 ml | 24 | 5.10 | 122.40 |
| Masking tape 50 mm x 50 m | 30 | 1.95 | 58.50 |
| Workshop rags, white (10 kg bale) | 3 | 22.40 | 67.20 |
| Degreaser concentrate, 5 L | 5 | 16.80 | 84.00 |
| Spill kit, general purpose, 50 L | 1 | 89.00 | 89.00 |
| Steel shelving unit 1800 x 900 x 450 mm | 3 | 74.50 | 223.50 |
| Parts bins, size 3, blue (pack of 12) | 4 | 21.60 | 86.40 |
| Pallet wrap 400 mm x 250 m, 17 micron | 12 | 9.35 | 112.20 |
| Packing tape 48 mm x 66 m, brown (pack of 6) | 10 | 6.75 | 67.50 |
| Cardboard boxes 457 x 305 x 305 mm (bundle of 25) | 8 | 28.00 | 224.00 |
| LED work light 20 W, rechargeable | 3 | 34.95 | 104.85 |
| Extension reel 25 m, 4 sockets, 240 V | 2 | 42.00 | 84.00 |
| First aid kit, BS 8599-1, medium | 2 | 31.20 | 62.40 |
| Ear defenders, SNR 30 dB | 10 | 8.45 | 84.50 |
| Dust masks FFP2, valved (box of 10) | 6 | 15.30 | 91.80 |
Continued on page 2
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 1 of 2
--- page 2 ---
Acme Industrial Supplies Ltd
Invoice INV-2041 (continued)
| Description | Qty | Unit Price | Amount |
| --- | --- | --- | --- |
| Torque wrench 1/2" drive, 40-210 Nm | 1 | 58.75 | 58.75 |
| Socket set 1/2" drive, 24 pieces | 1 | 46.20 | 46.20 |
| Delivery charge, next working day | 1 | 12.50 | 12.50 |
Subtotal: £2,820.60
VAT (20%): £564.12
Total (GBP): £3,384.72
Payment details
Please pay within 30 days, quoting invoice number INV-2041.
Bank: Northbridge Bank plc | Sort code: 20-45-77 | Account: 43917265
IBAN: GB29 NBRB 2045 7743 9172 65 | BIC: NBRBGB2L
Thank you for your business.
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 2 of 2`;

const NORTHWIND_LAYOUT = `--- page 1 ---
Northwind Traders B.V.
Keizersgracht 221
1016 DV Amsterdam
Netherlands
VAT no. NL853129764B01 | KvK 71234567
Inv. No.: NW-7731
Date of issue: 28.02.2025
Due date: 30.03.2025
Order ref.: WEB-20931
Invoice
CUSTOMER
Contoso Retail B.V.
Attn. Finance Department
Stationsplein 45
3013 AK Rotterdam
Netherlands
| Pos. | Item | Quantity | Unit price | Line total (EUR) |
| --- | --- | --- | --- | --- |
| 1 | Espresso machine, dual boiler, model NW-500 | 2 | 1,249.00 | 2,498.00 |
| 2 | Coffee grinder, flat burr 64 mm | 2 | 389.00 | 778.00 |
| 3 | Arabica beans, single origin Colombia (1 kg) | 24 | 18.75 | 450.00 |
| 4 | Milk pitcher, stainless steel, 600 ml | 6 | 12.50 | 75.00 |
| 5 | Descaling tablets (pack of 40) | 4 | 9.75 | 39.00 |
| 6 | Installation and barista training (hours) | 7.5 | 86.00 | 645.00 |
| 7 | Delivery and installation travel, flat rate | 1 | 95.00 | 95.00 |
| | | | Net amount | € 4,580.00 |
| | | | VAT 21% | € 961.80 |
| | | | Amount Due | € 5,541.80 |
Please transfer the amount due by 30.03.2025, quoting NW-7731.
IBAN: NL91 ABNA 0417 1643 00 | BIC: ABNANL2A
Goods remain the property of Northwind Traders B.V. until paid in full.
Northwind Traders B.V. | Keizersgracht 221, 1016 DV Amsterdam | orders@northwind-traders.example`;

// Mixed: form fields rendered as pairs but still sharing visual rows; Markdown item table.
const ACME_MIXED = `--- page 1 ---
Acme Industrial Supplies Ltd  INVOICE
Unit 7, Foundry Park
42 Foundry Lane
Sheffield S3 8AB  Invoice Number: INV-2041
United Kingdom  Invoice Date: 14 March 2025
Tel: +44 114 496 0321 | accounts@acme-industrial.example  Due Date: 13 April 2025
Purchase Order: PO-55310
Bill To:  Payment Terms: Net 30 days
Globex Corporation  Currency: GBP
Attn: Accounts Payable
18 Canal Street
Manchester M1 3HE
United Kingdom
| Description | Qty | Unit Price | Amount |
| --- | --- | --- | --- |
| Hex bolts M8 x 40 mm, zinc plated (box of 100) | 12 | 8.75 | 105.00 |
| Hex nuts M8, zinc plated (box of 200) | 12 | 6.40 | 76.80 |
| Flat washers M8 (box of 500) | 6 | 5.95 | 35.70 |
| Safety gloves, nitrile, size L (pack of 12) | 10 | 14.50 | 145.00 |
| Safety glasses, clear, anti-fog | 25 | 4.20 | 105.00 |
| Hi-vis vest, EN ISO 20471, size XL | 15 | 3.85 | 57.75 |
| Cable ties 300 x 4.8 mm, black (bag of 100) | 20 | 2.60 | 52.00 |
| Electrical tape 19 mm x 20 m (pack of 10) | 8 | 7.90 | 63.20 |
| Cordless drill 18 V with 2 batteries | 2 | 129.00 | 258.00 |
| HSS drill bit set, 19 pieces | 4 | 18.50 | 74.00 |
| Angle grinder 115 mm, 750 W | 1 | 64.95 | 64.95 |
| Cutting discs 115 mm, stainless (pack of 25) | 6 | 17.25 | 103.50 |
| Spray paint, safety yellow, 400 ml | 24 | 5.10 | 122.40 |
| Masking tape 50 mm x 50 m | 30 | 1.95 | 58.50 |
| Workshop rags, white (10 kg bale) | 3 | 22.40 | 67.20 |
| Degreaser concentrate, 5 L | 5 | 16.80 | 84.00 |
| Spill kit, general purpose, 50 L | 1 | 89.00 | 89.00 |
| Steel shelving unit 1800 x 900 x 450 mm | 3 | 74.50 | 223.50 |
| Parts bins, size 3, blue (pack of 12) | 4 | 21.60 | 86.40 |
| Pallet wrap 400 mm x 250 m, 17 micron | 12 | 9.35 | 112.20 |
| Packing tape 48 mm x 66 m, brown (pack of 6) | 10 | 6.75 | 67.50 |
| Cardboard boxes 457 x 305 x 305 mm (bundle of 25) | 8 | 28.00 | 224.00 |
| LED work light 20 W, rechargeable | 3 | 34.95 | 104.85 |
| Extension reel 25 m, 4 sockets, 240 V | 2 | 42.00 | 84.00 |
| First aid kit, BS 8599-1, medium | 2 | 31.20 | 62.40 |
| Ear defenders, SNR 30 dB | 10 | 8.45 | 84.50 |
| Dust masks FFP2, valved (box of 10) | 6 | 15.30 | 91.80 |
Continued on page 2
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 1 of 2
--- page 2 ---
Acme Industrial Supplies Ltd
Invoice INV-2041 (continued)
| Description | Qty | Unit Price | Amount |
| --- | --- | --- | --- |
| Torque wrench 1/2" drive, 40-210 Nm | 1 | 58.75 | 58.75 |
| Socket set 1/2" drive, 24 pieces | 1 | 46.20 | 46.20 |
| Delivery charge, next working day | 1 | 12.50 | 12.50 |
Subtotal: £2,820.60
VAT (20%): £564.12
Total (GBP): £3,384.72
Payment details
Please pay within 30 days, quoting invoice number INV-2041.
Bank: Northbridge Bank plc | Sort code: 20-45-77 | Account: 43917265
IBAN: GB29 NBRB 2045 7743 9172 65 | BIC: NBRBGB2L
Thank you for your business.
Acme Industrial Supplies Ltd | Registered in England No. 08812345 | VAT Reg. No. GB 284 6610 37
Page 2 of 2`;

describe('Function: extractBySchema on the sample invoices', () => {
  it.each([
    ['rows joined with two spaces', 'acme-invoice-2041', ACME_ROWS],
    ['rows joined with two spaces', 'northwind-invoice-7731', NORTHWIND_ROWS],
    ['layout order, Markdown tables and key: value lines', 'acme-invoice-2041', ACME_LAYOUT],
    ['layout order, Markdown tables and key: value lines', 'northwind-invoice-7731', NORTHWIND_LAYOUT],
    ['key: value pairs sharing rows over a Markdown table', 'acme-invoice-2041', ACME_MIXED],
  ])('returns the expected record from %s (%s)', (_shape, name, text) => {
    // Act
    const record = extractBySchema(text, invoiceSchema);

    // Assess
    expect(record).toEqual(expected(name));
  });
});
