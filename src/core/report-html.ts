/**
 * The run report: its shape (`reports/<runId>.json`), the small pure computations the Report task
 * needs (which field a rejection reason is about, what the run cost), and its rendering as one
 * self-contained HTML page (`reports/<runId>.html`): inline CSS and SVG charts, no script, no font,
 * no request of any kind (a Content-Security-Policy of `default-src 'none'` says so to the browser).
 * Everything taken from documents (keys, reasons, messages, types, job messages) is escaped.
 */
import type { Config } from '../config.ts';
import type { Reason } from '../errors.ts';
import {
  EXAMPLE_MODEL_IDS,
  formatUsd,
  type ModelPrice,
  priceFor,
  type TextractFeature,
  textractCost,
  tokenCost,
} from './pricing.ts';

/** Bumped when the shape changes in a way a reader must know (2: outcomes, costs, pages, durations). */
export const REPORT_VERSION = 2;

/** At most this many rejected documents are listed in a report (all are counted). */
export const MAX_LISTED_REJECTIONS = 500;

export interface Tokens {
  input: number;
  output: number;
}

export interface ReportJob {
  attempt: number;
  job: number;
  mode: string;
  status: string;
  jobId?: string;
  records: number;
  message?: string;
  /** From the job's `manifest.json.out`, when it wrote one. */
  tokens?: Tokens;
}

export interface ReportAttempt {
  attempt: number;
  /** When Assemble planned it. */
  plannedAt: string;
  /** From its plan to the next attempt's plan (or to the report, for the last attempt). */
  durationMs: number;
  documents: number;
  records: number;
  deferred: number;
  jobs: number;
  /** False when Collect wrote no summary for it (the run stopped before). */
  collected: boolean;
  results: number;
  rejected: number;
  redriven: number;
  errorRecords: number;
  tokens: Tokens;
}

export interface ReportRejection {
  docId: string;
  type: string;
  /** The key it was uploaded under. */
  source: string;
  stage: string;
  reasons: Reason[];
}

export interface FieldFailure {
  /** JSON pointer of the field with each array index as an asterisk (every line item's amount is one field); `/` for the record itself. */
  field: string;
  /** Documents of the type rejected with a reason about this field. */
  documents: number;
  /** `documents` / documents of the type in the run. */
  rate: number;
  codes: string[];
}

export interface TypeSummary {
  type: string;
  documents: number;
  results: number;
  rejected: number;
  /** Rejections after validation (some reason names a field). */
  invalid: number;
  fields: FieldFailure[];
}

export interface ReportPages {
  pages: number;
  /** Documents read from their PDF text layer: no Textract. */
  textLayerDocuments: number;
  textLayerPages: number;
  textractDocuments: number;
  textractPages: number;
  /** Documents whose registration could not be read (their pages are not counted). */
  unknownDocuments: number;
}

export interface CostLine {
  name: string;
  batch: number;
  onDemand: number;
}

export interface ReportCost {
  /** When the price table was read: costs are only as good as that. */
  priceDate: string;
  /** The run's model's price row; absent when the table has none for it. */
  model?: { name: string; inputPerMillion: number; outputPerMillion: number; batchDiscount: number };
  /** Every token of the run at the batch price, and at the on-demand price. */
  batch: number;
  onDemand: number;
  /** As billed: each job at the price of its mode (a job below the batch minimum runs on demand). */
  billed: number;
  /** Textract for this run's documents that needed OCR (done at upload). */
  textract: number;
  /** What Textract would have cost for the pages read from text layers instead. */
  textractAvoided: number;
  /** The same tokens on priced Bedrock models, when the run's model is free or unpriced. */
  examples: CostLine[];
}

export interface RunReportBody {
  reportVersion: number;
  runId: string;
  modelId: string;
  /** When the report was written. */
  createdAt: string;
  /** When the run started: its first plan. */
  startedAt: string;
  durationMs: number;
  /** Documents taken by the run (first attempt). */
  documents: number;
  /** Records submitted over every attempt. */
  records: number;
  deferred: number;
  attempts: number;
  results: number;
  rejected: number;
  /** Documents of the run with neither a result nor a rejection (an interrupted run). */
  pending: number;
  /** Re-drives performed: documents submitted again after a failed attempt. */
  redriven: number;
  errorRecords: number;
  tokens: Tokens;
  jobs: ReportJob[];
  perAttempt: ReportAttempt[];
  byType: TypeSummary[];
  /** This run's rejections (at most MAX_LISTED_REJECTIONS; `rejected` counts them all). */
  rejectedDocuments: ReportRejection[];
  pages: ReportPages;
  cost: ReportCost;
}

// ---------------------------------------------------------------------------------------------
// Pure computations for the Report task

/**
 * The field a rejection reason is about: ajv reports a missing property at its parent (`/` with
 * `missing required property "total"`), which is the record's fault only in name; the field is what
 * a person fixes. Array indexes become `*` so that every line item's `amount` counts as one field.
 */
export function fieldOfReason(reason: Reason): string | undefined {
  if (reason.path === undefined) return undefined;
  let path = reason.path === '/' ? '' : reason.path;
  const missing = /missing required property "([^"]+)"/.exec(reason.message);
  if (reason.code === 'schema.required' && missing) path = `${path}/${missing[1]}`;
  return (path || '/').replace(/\/\d+(?=\/|$)/g, '/*');
}

/** Per-field failure counts for one type from its documents' rejection reasons. */
export function fieldFailures(
  documents: number,
  rejections: readonly { reasons: readonly Reason[] }[],
): { invalid: number; fields: FieldFailure[] } {
  const byField = new Map<string, { documents: number; codes: Set<string> }>();
  let invalid = 0;
  for (const r of rejections) {
    const fields = new Map<string, Set<string>>();
    for (const reason of r.reasons) {
      const field = fieldOfReason(reason);
      if (field === undefined) continue;
      const codes = fields.get(field) ?? new Set<string>();
      codes.add(reason.code);
      fields.set(field, codes);
    }
    if (fields.size > 0) invalid++;
    for (const [field, codes] of fields) {
      const f = byField.get(field) ?? { documents: 0, codes: new Set<string>() };
      f.documents++;
      for (const c of codes) f.codes.add(c);
      byField.set(field, f);
    }
  }
  const fields = [...byField.entries()]
    .map(([field, f]) => ({
      field,
      documents: f.documents,
      rate: documents > 0 ? f.documents / documents : 0,
      codes: [...f.codes].sort(),
    }))
    .sort((a, b) => b.documents - a.documents || a.field.localeCompare(b.field));
  return { invalid, fields };
}

/** Where a document's text came from, for the OCR cost lines. */
export interface DocumentPages {
  type: string;
  pages: number;
  textLayer: boolean;
  /** Documents these pages belong to (callers may add up documents of the same type and route). */
  documents?: number;
}

/** Dollars without binary-fraction noise (0.00029410000000000005), far below a cent's precision. */
const usd = (amount: number) => Math.round(amount * 1e8) / 1e8;

/** Pages by route and the run's cost, from the configured (dated, overridable) price table. */
export function runCost(
  config: Pick<Config, 'prices' | 'ocr'>,
  modelId: string,
  tokens: Tokens,
  jobs: readonly Pick<ReportJob, 'mode' | 'tokens'>[],
  documents: readonly DocumentPages[],
): { pages: Omit<ReportPages, 'unknownDocuments'>; cost: ReportCost } {
  const prices = config.prices;
  const price: ModelPrice | undefined = priceFor(prices, modelId);
  const all = price ? tokenCost(price, tokens) : { batch: 0, onDemand: 0 };
  let billed = 0;
  const attributed: Tokens = { input: 0, output: 0 };
  for (const j of jobs) {
    if (!j.tokens || !price) continue;
    const c = tokenCost(price, j.tokens);
    billed += j.mode === 'batch' ? c.batch : c.onDemand;
    attributed.input += j.tokens.input;
    attributed.output += j.tokens.output;
  }
  // Tokens no manifest accounts for are billed as the run's jobs mostly ran.
  const rest = {
    input: Math.max(0, tokens.input - attributed.input),
    output: Math.max(0, tokens.output - attributed.output),
  };
  if (price && (rest.input > 0 || rest.output > 0)) {
    const c = tokenCost(price, rest);
    const batchJobs = jobs.filter((j) => j.mode === 'batch').length;
    billed += batchJobs * 2 >= jobs.length ? c.batch : c.onDemand;
  }
  const features = (type: string): TextractFeature[] =>
    config.ocr.textractFeatures[type] ?? config.ocr.textractFeatures['*'] ?? [];
  const pages = {
    pages: 0,
    textLayerDocuments: 0,
    textLayerPages: 0,
    textractDocuments: 0,
    textractPages: 0,
  };
  let textract = 0;
  let textractAvoided = 0;
  for (const d of documents) {
    pages.pages += d.pages;
    const c = textractCost(prices.textract, d.pages, features(d.type));
    if (d.textLayer) {
      pages.textLayerDocuments += d.documents ?? 1;
      pages.textLayerPages += d.pages;
      textractAvoided += c;
    } else {
      pages.textractDocuments += d.documents ?? 1;
      pages.textractPages += d.pages;
      textract += c;
    }
  }
  const free = !price || (price.inputPerMillion === 0 && price.outputPerMillion === 0);
  const examples: CostLine[] = [];
  if (free) {
    for (const [name, id] of Object.entries(EXAMPLE_MODEL_IDS)) {
      const p = priceFor(prices, id);
      if (p) {
        const c = tokenCost(p, tokens);
        examples.push({ name, batch: usd(c.batch), onDemand: usd(c.onDemand) });
      }
    }
  }
  return {
    pages,
    cost: {
      priceDate: prices.date,
      ...(price
        ? {
            model: {
              name: price.name,
              inputPerMillion: price.inputPerMillion,
              outputPerMillion: price.outputPerMillion,
              batchDiscount: price.batchDiscount,
            },
          }
        : {}),
      batch: usd(all.batch),
      onDemand: usd(all.onDemand),
      billed: usd(billed),
      textract: usd(textract),
      textractAvoided: usd(textractAvoided),
      examples,
    },
  };
}

/** Where the HTML report sits beside the JSON one. */
export function reportHtmlKey(runId: string): string {
  return `reports/${runId}.html`;
}

// ---------------------------------------------------------------------------------------------
// HTML

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML content and attribute values (SVG text too). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const num = (n: number) => n.toLocaleString('en-US');
const pct = (r: number) => `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)}%`;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

interface Bar {
  label: string;
  value: number;
  /** What is written after the bar. */
  text: string;
  cls: string;
}

/** A horizontal bar chart in inline SVG, scaled to its largest value. */
function barChart(title: string, bars: readonly Bar[]): string {
  const labelW = 220;
  const barW = 320;
  const rowH = 26;
  const height = bars.length * rowH + 8;
  const max = Math.max(...bars.map((b) => b.value), 0);
  const rows = bars
    .map((b, i) => {
      const y = 4 + i * rowH;
      const w = max > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / max) * barW) : 0;
      return (
        `<g class="bar"><text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(b.label)}</text>` +
        `<rect class="${b.cls}" x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2"><title>${escapeHtml(`${b.label}: ${b.text}`)}</title></rect>` +
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 16}">${escapeHtml(b.text)}</text></g>`
      );
    })
    .join('');
  return `<figure><svg class="chart" viewBox="0 0 ${labelW + barW + 120} ${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${rows}</svg><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}

/** One bar split into parts (outcomes, pages), with a legend. */
function stackedBar(title: string, parts: readonly Bar[]): string {
  const width = 660;
  const total = parts.reduce((s, p) => s + p.value, 0);
  let x = 0;
  const rects = parts
    .filter((p) => p.value > 0)
    .map((p) => {
      const w = total > 0 ? (p.value / total) * width : 0;
      const r = `<rect class="${p.cls}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="28"><title>${escapeHtml(`${p.label}: ${p.text}`)}</title></rect>`;
      x += w;
      return r;
    })
    .join('');
  const empty = total === 0 ? `<rect class="none" x="0" y="0" width="${width}" height="28"></rect>` : '';
  const legend = parts
    .map(
      (p) =>
        `<li><span class="swatch ${p.cls}"></span>${escapeHtml(p.label)} <b>${escapeHtml(p.text)}</b></li>`,
    )
    .join('');
  return `<figure><svg class="stack" viewBox="0 0 ${width} 28" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${empty}${rects}</svg><ul class="legend">${legend}</ul></figure>`;
}

function tile(id: string, value: string, label: string, cls = ''): string {
  return `<div class="tile${cls ? ` t-${cls}` : ''}" id="count-${id}" data-count="${escapeHtml(id)}"><span class="n">${escapeHtml(value)}</span><span class="l">${escapeHtml(label)}</span></div>`;
}

function table(head: readonly string[], rows: readonly string[][], cls = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  // Cells arrive already escaped: some hold markup (codes, line breaks) built from escaped parts.
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const CSS = `
:root{--ok:#2e7d32;--bad:#c62828;--wait:#9e9e9e;--in:#1565c0;--out:#7b1fa2;--od:#ef6c00;--tx:#00838f;--sv:#9ccc65;--fg:#1d2330;--mut:#5f6b7a;--bg:#fff;--line:#e3e7ee;--card:#f6f8fb}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1000px;margin:0 auto;padding:24px}h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.15rem;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:1rem;margin:18px 0 6px}
.meta,.note,figcaption{color:var(--mut);font-size:.9rem}code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:118px}
.tile .n{display:block;font-size:1.6rem;font-weight:600}.tile .l{color:var(--mut);font-size:.85rem}.tile.t-ok .n{color:var(--ok)}.tile.t-bad .n{color:var(--bad)}.tile.t-wait .n{color:var(--wait)}
figure{margin:10px 0}svg.stack{width:100%;height:28px;border-radius:4px;display:block}svg.chart{width:100%;max-width:660px;height:auto;font-size:13px;fill:var(--fg)}
.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:14px;font-size:.9rem}.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.ok{fill:var(--ok);background:var(--ok)}.bad{fill:var(--bad);background:var(--bad)}.wait{fill:var(--wait);background:var(--wait)}.in{fill:var(--in);background:var(--in)}.out{fill:var(--out);background:var(--out)}
.batch{fill:var(--in);background:var(--in)}.od{fill:var(--od);background:var(--od)}.tx{fill:var(--tx);background:var(--tx)}.sv{fill:var(--sv);background:var(--sv)}.none{fill:var(--line)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92rem}.nw{white-space:nowrap}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--mut);font-weight:600}td.r,th.r{text-align:right}
.reasons{margin:0;padding-left:18px}.empty{color:var(--mut);font-style:italic}footer{margin:36px 0 12px;color:var(--mut);font-size:.85rem}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--mut:#9aa5b4;--bg:#12161d;--line:#2a313c;--card:#1a2029}}
@media print{main{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}
`;

function outcomesSection(r: RunReportBody): string {
  const tiles = [
    tile('documents', num(r.documents), 'documents'),
    tile('results', num(r.results), 'results', 'ok'),
    tile('rejected', num(r.rejected), 'rejected', r.rejected ? 'bad' : ''),
    tile('pending', num(r.pending), 'without outcome', r.pending ? 'wait' : ''),
    tile('redriven', num(r.redriven), 're-driven'),
    tile('attempts', num(r.attempts), r.attempts === 1 ? 'attempt' : 'attempts'),
  ].join('');
  const bar = stackedBar('Outcome of every document of the run', [
    { label: 'results', value: r.results, text: num(r.results), cls: 'ok' },
    { label: 'rejected', value: r.rejected, text: num(r.rejected), cls: 'bad' },
    { label: 'without outcome', value: r.pending, text: num(r.pending), cls: 'wait' },
  ]);
  const types =
    r.byType.length > 0
      ? table(
          ['type', 'documents', 'results', 'rejected', 'rejected after validation'],
          r.byType.map((t) => [
            `<code>${escapeHtml(t.type)}</code>`,
            num(t.documents),
            num(t.results),
            num(t.rejected),
            num(t.invalid),
          ]),
        )
      : '';
  const deferred = r.deferred
    ? `<p class="note">${num(r.deferred)} record(s) were below the batch minimum and deferred to a later run.</p>`
    : '';
  return `<section id="outcomes"><h2>Outcomes</h2><div class="tiles">${tiles}</div>${bar}${types}${deferred}<p class="note">Documents refused at upload (ingest) never join a run: they are in <code>rejected/</code> with stage <code>ingest</code>.</p></section>`;
}

function costSection(r: RunReportBody): string {
  const c = r.cost;
  const tiles = [
    tile('tokens-in', num(r.tokens.input), 'tokens in'),
    tile('tokens-out', num(r.tokens.output), 'tokens out'),
    tile('cost-batch', formatUsd(c.batch), 'at batch price'),
    tile('cost-on-demand', formatUsd(c.onDemand), 'at on-demand price'),
    tile('cost-billed', formatUsd(c.billed), 'as billed (each job’s mode)'),
  ].join('');
  const tokens = barChart('Tokens', [
    { label: 'input', value: r.tokens.input, text: num(r.tokens.input), cls: 'in' },
    { label: 'output', value: r.tokens.output, text: num(r.tokens.output), cls: 'out' },
  ]);
  const lines: Bar[] = [
    { label: `${c.model?.name ?? r.modelId}, batch`, value: c.batch, text: formatUsd(c.batch), cls: 'batch' },
    {
      label: `${c.model?.name ?? r.modelId}, on demand`,
      value: c.onDemand,
      text: formatUsd(c.onDemand),
      cls: 'od',
    },
  ];
  for (const e of c.examples) {
    lines.push({ label: `${e.name}, batch`, value: e.batch, text: formatUsd(e.batch), cls: 'batch' });
    lines.push({ label: `${e.name}, on demand`, value: e.onDemand, text: formatUsd(e.onDemand), cls: 'od' });
  }
  const model = c.model
    ? `${escapeHtml(c.model.name)}: $${c.model.inputPerMillion} / $${c.model.outputPerMillion} per million tokens in / out on demand, ${pct(c.model.batchDiscount)} off in batch`
    : `no price for <code>${escapeHtml(r.modelId)}</code> in the price table (add it under <code>prices</code> in docbatch.config.json)`;
  const examples =
    c.examples.length > 0
      ? '<p class="note">The run’s model costs nothing, so the chart adds what the same tokens would cost on priced Bedrock models.</p>'
      : '';
  return `<section id="cost"><h2>Tokens and cost</h2><div class="tiles">${tiles}</div>${tokens}${barChart('Model cost of the run’s tokens: batch next to on-demand price', lines)}<p class="note">${model}. Prices of ${escapeHtml(c.priceDate)} from the configured price table: examples to check, not a quote.</p>${examples}</section>`;
}

function ocrSection(r: RunReportBody): string {
  const p = r.pages;
  const c = r.cost;
  const bar = stackedBar('Pages of the run’s documents by how their text was read', [
    { label: 'text layer', value: p.textLayerPages, text: `${num(p.textLayerPages)} pages`, cls: 'sv' },
    { label: 'Textract', value: p.textractPages, text: `${num(p.textractPages)} pages`, cls: 'tx' },
  ]);
  const costs = barChart('Textract cost', [
    { label: 'Textract (OCR’d pages)', value: c.textract, text: formatUsd(c.textract), cls: 'tx' },
    {
      label: 'avoided by text layers',
      value: c.textractAvoided,
      text: formatUsd(c.textractAvoided),
      cls: 'sv',
    },
  ]);
  const unknown = p.unknownDocuments
    ? `<p class="note">${num(p.unknownDocuments)} document(s) without a readable registration are not counted.</p>`
    : '';
  return `<section id="ocr"><h2>Pages and OCR</h2><div class="tiles">${tile('pages', num(p.pages), 'pages')}${tile('textract-pages', num(p.textractPages), 'pages by Textract')}${tile('text-layer-pages', num(p.textLayerPages), 'pages from text layers')}${tile('textract-avoided', formatUsd(c.textractAvoided), 'Textract avoided')}</div>${bar}${costs}<p class="note">${num(p.textLayerDocuments)} document(s) read from their own PDF text layer, ${num(p.textractDocuments)} by Textract (at upload). The avoided cost is what Textract would have charged for the text-layer pages with the type’s configured features.</p>${unknown}</section>`;
}

function validationSection(r: RunReportBody): string {
  const typed = r.byType.filter((t) => t.fields.length > 0);
  if (typed.length === 0)
    return '<section id="validation"><h2>Validation failures per field</h2><p class="empty">No document of this run was rejected for a field.</p></section>';
  const charts = typed
    .map((t) => {
      const bars = t.fields.map((f) => ({
        label: f.field,
        value: f.rate,
        text: `${pct(f.rate)} (${num(f.documents)} of ${num(t.documents)})`,
        cls: 'bad',
      }));
      const rows = t.fields.map((f) => [
        `<code>${escapeHtml(f.field)}</code>`,
        num(f.documents),
        pct(f.rate),
        f.codes.map((c) => `<code>${escapeHtml(c)}</code>`).join(' '),
      ]);
      return `<h3>${escapeHtml(t.type)} <span class="meta">(${num(t.documents)} documents)</span></h3>${barChart(`${t.type}: share of documents rejected for each field`, bars)}${table(['field', 'documents', 'rate', 'reasons'], rows)}`;
    })
    .join('');
  return `<section id="validation"><h2>Validation failures per field</h2>${charts}<p class="note">Final rejections only: a field an attempt got wrong and a re-drive fixed does not count.</p></section>`;
}

function rejectedSection(r: RunReportBody): string {
  if (r.rejectedDocuments.length === 0)
    return '<section id="rejected"><h2>Rejected documents</h2><p class="empty">None.</p></section>';
  const rows = r.rejectedDocuments.map((d) => [
    `<code>${escapeHtml(d.source)}</code><br><span class="meta">${escapeHtml(d.docId)}</span>`,
    escapeHtml(d.type),
    escapeHtml(d.stage),
    `<ul class="reasons">${d.reasons
      .map(
        (x) =>
          `<li><code>${escapeHtml(x.code)}</code> ${escapeHtml(x.message)}${x.path !== undefined ? ` <span class="meta">at ${escapeHtml(x.path)}</span>` : ''}</li>`,
      )
      .join('')}</ul>`,
  ]);
  const more =
    r.rejected > r.rejectedDocuments.length
      ? `<p class="note">${num(r.rejected - r.rejectedDocuments.length)} more: <code>docbatch status ${escapeHtml(r.runId)}</code> lists them all.</p>`
      : '';
  return `<section id="rejected"><h2>Rejected documents</h2>${table(['document', 'type', 'stage', 'reasons'], rows, 'rejections')}${more}</section>`;
}

function attemptsSection(r: RunReportBody): string {
  const chart =
    r.perAttempt.length > 0
      ? barChart(
          'Duration of each attempt',
          r.perAttempt.map((a) => ({
            label: `attempt ${a.attempt}`,
            value: a.durationMs,
            text: formatDuration(a.durationMs),
            cls: 'batch',
          })),
        )
      : '';
  const attempts = table(
    [
      'attempt',
      'planned',
      'duration',
      'documents',
      'records',
      'jobs',
      'results',
      'rejected',
      're-driven',
      'model errors',
    ],
    r.perAttempt.map((a) => [
      num(a.attempt),
      `<span class="nw">${escapeHtml(a.plannedAt)}</span>`,
      formatDuration(a.durationMs),
      num(a.documents),
      num(a.records),
      num(a.jobs),
      a.collected ? num(a.results) : '—',
      a.collected ? num(a.rejected) : '—',
      a.collected ? num(a.redriven) : '—',
      a.collected ? num(a.errorRecords) : '—',
    ]),
  );
  const jobs =
    r.jobs.length > 0
      ? table(
          ['attempt', 'job', 'mode', 'job id', 'status', 'records', 'tokens in / out', 'message'],
          r.jobs.map((j) => [
            num(j.attempt),
            num(j.job),
            escapeHtml(j.mode),
            j.jobId ? `<code>${escapeHtml(j.jobId)}</code>` : '—',
            escapeHtml(j.status),
            num(j.records),
            j.tokens ? `${num(j.tokens.input)} / ${num(j.tokens.output)}` : '—',
            j.message ? escapeHtml(j.message) : '',
          ]),
          'jobs',
        )
      : '<p class="empty">No jobs (nothing to extract, or every record was deferred).</p>';
  return `<section id="attempts"><h2>Attempts and jobs</h2>${chart}${attempts}<h3>Jobs</h3>${jobs}</section>`;
}

/** The report as one self-contained HTML page. */
export function renderReportHtml(r: RunReportBody): string {
  const title = `docbatch run ${r.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style></head>
<body><main>
<header><h1>Run <code>${escapeHtml(r.runId)}</code></h1>
<p class="meta">model <code>${escapeHtml(r.modelId)}</code> · started ${escapeHtml(r.startedAt)} · reported ${escapeHtml(r.createdAt)} · <span id="duration">${escapeHtml(formatDuration(r.durationMs))}</span> · ${num(r.records)} record(s) over ${num(r.attempts)} attempt(s)</p></header>
${outcomesSection(r)}
${costSection(r)}
${ocrSection(r)}
${validationSection(r)}
${rejectedSection(r)}
${attemptsSection(r)}
<footer>Written by docbatch’s Report task with <code>reports/${escapeHtml(r.runId)}.json</code>. Self-contained: no script, font or request leaves this file.</footer>
</main></body></html>
`;
}
