/**
 * Measures the rules model on the SROIE receipts in the shared corpus: rebuilds each
 * receipt's text from its OCR boxes in reading order, extracts with the receipt schema and
 * compares with the key-field ground truth (company → merchant_name, address →
 * merchant_address, date, total).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  extractBySchema,
  type JSONSchemaObject,
} from '../../../../../src/adapters/local/bedrock/rules-model.ts';

export const SROIE_DIR = join(import.meta.dirname, '../../../../../../shared/corpora/sroie');

export function sroieAvailable(): boolean {
  return existsSync(join(SROIE_DIR, 'key')) && existsSync(join(SROIE_DIR, 'box'));
}

interface Box {
  left: number;
  top: number;
  bottom: number;
  text: string;
}

/**
 * Text of a receipt from its box file (`x1,y1,…,x4,y4,text` per line): boxes whose vertical
 * centres fall within one another's extent form a line, read left to right, as a reading-order
 * linearizer prints Textract LINE blocks.
 */
export function boxesToText(csv: string): string {
  const boxes: Box[] = [];
  for (const row of csv.split(/\r?\n/)) {
    const parts = row.split(',');
    if (parts.length < 9) continue;
    const n = parts.slice(0, 8).map(Number);
    const xs = [n[0], n[2], n[4], n[6]].map((v) => v ?? 0);
    const ys = [n[1], n[3], n[5], n[7]].map((v) => v ?? 0);
    const text = parts.slice(8).join(',').trim();
    if (text) boxes.push({ left: Math.min(...xs), top: Math.min(...ys), bottom: Math.max(...ys), text });
  }
  boxes.sort((a, b) => a.top + a.bottom - (b.top + b.bottom));
  const lines: { top: number; bottom: number; boxes: Box[] }[] = [];
  for (const box of boxes) {
    const centre = (box.top + box.bottom) / 2;
    const line = lines.find(
      (l) =>
        centre > l.top &&
        centre < l.bottom &&
        Math.abs((l.top + l.bottom) / 2 - centre) < (l.bottom - l.top) / 2,
    );
    if (line) line.boxes.push(box);
    else lines.push({ top: box.top, bottom: box.bottom, boxes: [box] });
  }
  return lines
    .map((l) =>
      l.boxes
        .sort((a, b) => a.left - b.left)
        .map((b) => b.text)
        .join(' '),
    )
    .join('\n');
}

/** Ground-truth dates as printed, day-first unless the middle part exceeds 12 (as on these receipts). */
export function truthDate(printed: string): string | undefined {
  const m = /(\d{1,4})[-/.](\d{1,2})[-/.](\d{2,4})/.exec(printed);
  if (!m) return undefined;
  if ((m[1] ?? '').length === 4)
    return `${m[1]}-${(m[2] ?? '').padStart(2, '0')}-${(m[3] ?? '').padStart(2, '0')}`;
  const [a, b] = [Number(m[1]), Number(m[2])];
  const y = Number(m[3]) < 100 ? Number(m[3]) + 2000 : Number(m[3]);
  const [day, month] = b > 12 ? [b, a] : [a, b];
  return `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function tokens(s: string): string[] {
  return s
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((t) => t.length > 0);
}

/** Token-level F1 between two strings (bag of alphanumeric tokens). */
export function tokenF1(predicted: string | undefined, truth: string): number {
  if (!predicted) return 0;
  const p = tokens(predicted);
  const t = tokens(truth);
  const pool = new Map<string, number>();
  for (const x of t) pool.set(x, (pool.get(x) ?? 0) + 1);
  let common = 0;
  for (const x of p) {
    const n = pool.get(x) ?? 0;
    if (n > 0) {
      common++;
      pool.set(x, n - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / t.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface SroieReport {
  receipts: number;
  dateAccuracy: number;
  totalAccuracy: number;
  merchantNameF1: number;
  merchantNameExact: number;
  addressF1: number;
  failures: string[];
}

export function evaluateSroie(schema: JSONSchemaObject): SroieReport {
  const names = readdirSync(join(SROIE_DIR, 'key'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  let date = 0;
  let total = 0;
  let nameF1 = 0;
  let nameExact = 0;
  let addressF1 = 0;
  const failures: string[] = [];
  for (const file of names) {
    const id = file.replace(/\.json$/, '');
    const key = JSON.parse(readFileSync(join(SROIE_DIR, 'key', file), 'utf8')) as Record<string, string>;
    const text = boxesToText(readFileSync(join(SROIE_DIR, 'box', `${id}.csv`), 'utf8'));
    const record = extractBySchema(text, schema);
    const wantDate = truthDate(key['date'] ?? '');
    if (record['date'] === wantDate) date++;
    else failures.push(`${id} date: got ${String(record['date'])}, want ${wantDate}`);
    const wantTotal = Number(key['total']);
    if (typeof record['total'] === 'number' && Math.abs(record['total'] - wantTotal) < 0.005) total++;
    else failures.push(`${id} total: got ${String(record['total'])}, want ${wantTotal}`);
    const name = typeof record['merchant_name'] === 'string' ? record['merchant_name'] : undefined;
    const f1 = tokenF1(name, key['company'] ?? '');
    nameF1 += f1;
    if (f1 === 1) nameExact++;
    else failures.push(`${id} merchant_name: got ${String(name)}, want ${key['company']}`);
    const address = typeof record['merchant_address'] === 'string' ? record['merchant_address'] : undefined;
    const a1 = tokenF1(address, key['address'] ?? '');
    addressF1 += a1;
    if (a1 < 0.8)
      failures.push(`${id} address (F1 ${a1.toFixed(2)}): got ${String(address)}, want ${key['address']}`);
  }
  const n = names.length;
  return {
    receipts: n,
    dateAccuracy: date / n,
    totalAccuracy: total / n,
    merchantNameF1: nameF1 / n,
    merchantNameExact: nameExact / n,
    addressF1: addressF1 / n,
    failures,
  };
}
