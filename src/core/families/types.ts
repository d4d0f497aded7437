/** A JSON Schema object as docbatch reads it (draft 2020-12; only the keywords we look at are typed). */
export interface JsonSchema {
  $id?: string;
  $schema?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  [keyword: string]: unknown;
}

/** Everything a family needs to build one extraction request. */
export interface ExtractionRequest {
  type: string;
  schema: JsonSchema;
  text: string;
  chunk: { index: number; count: number; pageStart: number; pageEnd: number };
  maxTokens: number;
  /** Validation errors of the previous attempt, fed back on re-drive. */
  feedback?: string[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What a family's response parser hands to Collect, whatever the model's own shape. */
export interface ParsedOutput {
  /** The forced tool's input when the model called it (the normal case). */
  toolInput?: unknown;
  /** Free text the model produced instead of (or besides) a tool call. */
  text?: string;
  /** The model stopped on its token budget: the answer is incomplete and must not be guessed at. */
  truncated: boolean;
  usage: Usage;
}

export interface ModelFamily {
  readonly name: string;
  buildRequest(request: ExtractionRequest): Record<string, unknown>;
  parseResponse(modelOutput: unknown): ParsedOutput;
}
