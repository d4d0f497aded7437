/**
 * Prices, for estimates before anything is spent. Pure data and arithmetic: the table a run uses is
 * this default with the configuration's overrides in front of it (`prices` in docbatch.config.json).
 */

/** USD per 1M tokens for one model (or family of model ids), as billed on demand. */
export interface ModelPrice {
  /** Regular expression tested against the model id (inference profiles such as `us.…` match too). */
  match: string;
  /** A name a person recognises in a report. */
  name: string;
  inputPerMillion: number;
  outputPerMillion: number;
  /** Share taken off both prices for batch inference (0.5 = half price). */
  batchDiscount: number;
}

/** Textract asynchronous analysis prices, USD per 1,000 pages. */
export interface TextractPrices {
  /** DetectDocumentText (plain OCR: lines and words). */
  detectTextPer1000Pages: number;
  /** AnalyzeDocument, per feature; a page analysed with several features pays each of them. */
  featurePer1000Pages: Record<TextractFeature, number>;
}

export type TextractFeature = 'TABLES' | 'FORMS' | 'QUERIES' | 'SIGNATURES' | 'LAYOUT';
export const TEXTRACT_FEATURES: readonly TextractFeature[] = [
  'TABLES',
  'FORMS',
  'QUERIES',
  'SIGNATURES',
  'LAYOUT',
];

export interface PriceTable {
  /** When the prices were read (ISO date): an estimate says how old its prices are. */
  date: string;
  /** First matching row wins. */
  models: ModelPrice[];
  textract: TextractPrices;
}

/**
 * EXAMPLES TO CHECK: us-east-1 list prices as read from the Amazon Bedrock and Amazon Textract
 * pricing pages on `date`. Prices change and differ by region and by inference profile (cross-region
 * `global.` profiles, long-context tiers); put the figures you are billed in `prices` in
 * docbatch.config.json before relying on an estimate.
 */
export const DEFAULT_PRICES: PriceTable = {
  date: '2025-11-01',
  models: [
    // The offline rules model runs on this machine: nothing to pay.
    {
      match: '^docbatch\\.rules',
      name: 'offline rules model',
      inputPerMillion: 0,
      outputPerMillion: 0,
      batchDiscount: 0,
    },
    {
      match: 'anthropic\\.claude-haiku-4-5',
      name: 'Claude Haiku 4.5',
      inputPerMillion: 1,
      outputPerMillion: 5,
      batchDiscount: 0.5,
    },
    {
      match: 'anthropic\\.claude-sonnet-4-5',
      name: 'Claude Sonnet 4.5',
      inputPerMillion: 3,
      outputPerMillion: 15,
      batchDiscount: 0.5,
    },
    {
      match: 'amazon\\.nova-lite-v1',
      name: 'Amazon Nova Lite',
      inputPerMillion: 0.06,
      outputPerMillion: 0.24,
      batchDiscount: 0.5,
    },
    {
      match: 'amazon\\.nova-pro-v1',
      name: 'Amazon Nova Pro',
      inputPerMillion: 0.8,
      outputPerMillion: 3.2,
      batchDiscount: 0.5,
    },
    {
      match: 'openai\\.gpt-oss-20b',
      name: 'gpt-oss-20b',
      inputPerMillion: 0.07,
      outputPerMillion: 0.3,
      batchDiscount: 0.5,
    },
    {
      match: 'openai\\.gpt-oss-120b',
      name: 'gpt-oss-120b',
      inputPerMillion: 0.15,
      outputPerMillion: 0.6,
      batchDiscount: 0.5,
    },
  ],
  textract: {
    detectTextPer1000Pages: 1.5,
    featurePer1000Pages: { TABLES: 15, FORMS: 50, QUERIES: 15, SIGNATURES: 3.5, LAYOUT: 4 },
  },
};

/** Example model ids for each priced row, so an estimate on the free offline model can show real figures. */
export const EXAMPLE_MODEL_IDS: Record<string, string> = {
  'Claude Haiku 4.5': 'anthropic.claude-haiku-4-5-20251001-v1:0',
  'Claude Sonnet 4.5': 'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'Amazon Nova Lite': 'amazon.nova-lite-v1:0',
  'gpt-oss-20b': 'openai.gpt-oss-20b-1:0',
};

export function priceFor(table: PriceTable, modelId: string): ModelPrice | undefined {
  return table.models.find((row) => new RegExp(row.match).test(modelId));
}

export interface TokenCost {
  /** On-demand (Bedrock Runtime) price. */
  onDemand: number;
  /** Batch inference price (the on-demand price less the batch discount). */
  batch: number;
}

export function tokenCost(price: ModelPrice, tokens: { input: number; output: number }): TokenCost {
  const onDemand = (tokens.input * price.inputPerMillion + tokens.output * price.outputPerMillion) / 1e6;
  return { onDemand, batch: onDemand * (1 - price.batchDiscount) };
}

/** Textract cost of `pages` pages: text detection, or document analysis with the given features. */
export function textractCost(
  prices: TextractPrices,
  pages: number,
  features: readonly TextractFeature[] = [],
): number {
  const per1000 =
    features.length === 0
      ? prices.detectTextPer1000Pages
      : features.reduce((sum, f) => sum + prices.featurePer1000Pages[f], 0);
  return (pages * per1000) / 1000;
}

/** USD for people: cents-level precision for real money, more digits for the tiny sums of a sample. */
export function formatUsd(amount: number): string {
  if (amount === 0) return '$0';
  if (amount >= 1) return `$${amount.toFixed(2)}`;
  return `$${amount.toPrecision(2)}`;
}
