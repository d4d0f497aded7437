import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkOutcome, decideDocument, interpretOutputLine } from '../../../src/core/collect.ts';
import { anthropic } from '../../../src/core/families/anthropic.ts';
import { nova } from '../../../src/core/families/nova.ts';
import { openai } from '../../../src/core/families/openai.ts';
import type { JsonSchema } from '../../../src/core/families/types.ts';
import { SchemaRegistry } from '../../../src/core/validate.ts';

const schema = JSON.parse(
  readFileSync(new URL('../../../schemas/receipt.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;
const registry = new SchemaRegistry({ receipt: schema });
const validate = (r: Record<string, unknown>) => registry.validate('receipt', r);

/** Plausible, wrong-typed and adversarial field values. */
const fieldValue = fc.oneof(
  fc.string(),
  fc.double(),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -0),
  fc.integer(),
  fc.constantFrom('1,234.50', '25/12/2024', '2024-02-30', 'RM 9.00', '', 'null', 'USD', 'us dollars'),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

const recordLike = fc.dictionary(
  fc.oneof(fc.constantFrom('merchant_name', 'merchant_address', 'date', 'total', 'currency'), fc.string()),
  fieldValue,
  { maxKeys: 7 },
);

/** JSON text as a model might write it: fenced, with prose, commented, trailing commas, cut short. */
const messyJsonText = recordLike.chain((r) =>
  fc
    .tuple(
      fc.constantFrom('', 'Here is the record:\n', 'Sure! ', '{"draft": true}\nFinal answer: '),
      fc.constantFrom('plain', 'fenced', 'comment', 'trailing', 'cut'),
      fc.string(),
    )
    .map(([prefix, style, noise]) => {
      const json = JSON.stringify(r, null, 1);
      if (style === 'fenced') return `${prefix}\`\`\`json\n${json}\n\`\`\`\n${noise}`;
      if (style === 'comment') return `${prefix}${json.replace('{', '{ // extracted\n')}`;
      if (style === 'trailing') return `${prefix}${json.replace(/\n}$/, ',\n}')}`;
      if (style === 'cut') return `${prefix}${json.slice(0, Math.max(1, json.length - 3))}`;
      return `${prefix}${json}${noise}`;
    }),
);

const stopReason = fc.constantFrom('tool_use', 'end_turn', 'max_tokens', undefined);

const claudeOutput = fc.oneof(
  fc.record({
    content: fc.array(
      fc.oneof(
        fc.record({
          type: fc.constant('tool_use'),
          name: fc.string(),
          input: fc.oneof(recordLike, fc.anything()),
        }),
        fc.record({ type: fc.constant('text'), text: messyJsonText }),
        fc.anything(),
      ),
      { maxLength: 3 },
    ),
    stop_reason: stopReason,
    usage: fc.oneof(fc.record({ input_tokens: fc.nat(), output_tokens: fc.nat() }), fc.anything()),
  }),
  fc.anything(),
);

const novaOutput = fc.oneof(
  fc.record({
    output: fc.record({
      message: fc.record({
        content: fc.array(
          fc.oneof(
            fc.record({ toolUse: fc.record({ input: recordLike }) }),
            fc.record({ text: messyJsonText }),
          ),
          {
            maxLength: 2,
          },
        ),
      }),
    }),
    stopReason,
  }),
  fc.anything(),
);

const openaiOutput = fc.oneof(
  fc.record({
    choices: fc.array(
      fc.record({
        message: fc.record({
          content: fc.oneof(
            messyJsonText,
            messyJsonText.map((t) => `<reasoning>hmm</reasoning>${t}`),
          ),
        }),
        finish_reason: fc.constantFrom('stop', 'length'),
      }),
      { maxLength: 1 },
    ),
  }),
  fc.anything(),
);

const errorLine = fc.record({ error: fc.record({ errorCode: fc.anything(), errorMessage: fc.anything() }) });

function checkChunk(outcome: ChunkOutcome): void {
  for (const r of outcome.reasons) {
    expect(typeof r.code).toBe('string');
    expect(r.message.length).toBeGreaterThan(0);
  }
  if (outcome.record)
    expect(Object.keys(outcome.record).every((k) => k in (schema.properties ?? {}))).toBe(true);
}

describe('Property: Collect never throws and always decides', () => {
  it.each([
    ['anthropic', anthropic, claudeOutput],
    ['nova', nova, novaOutput],
    ['openai', openai, openaiOutput],
  ] as const)('interprets any %s output line as a record or reasons', (_, family, output) => {
    fc.assert(
      fc.property(
        fc.oneof(
          output.map((modelOutput) => ({ modelOutput })),
          errorLine,
        ),
        (line) => {
          checkChunk(interpretOutputLine(line as never, family, schema, 'job'));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('gives every document exactly one of a valid record or non-empty reasons', () => {
    const chunkOutcome = fc
      .oneof(
        claudeOutput.map((modelOutput) => ({ modelOutput })),
        errorLine,
      )
      .map((line) => interpretOutputLine(line as never, anthropic, schema, 'job'));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.option(chunkOutcome, { nil: undefined }), { minLength: 3, maxLength: 3 }),
        (count, outcomes) => {
          const chunks = new Map<number, ChunkOutcome>();
          outcomes.slice(0, count).forEach((o, i) => {
            if (o) chunks.set(i, o);
          });
          const decision = decideDocument(chunks, count, validate, 'job ended Expired');
          if (decision.kind === 'result') {
            expect(validate(decision.record)).toEqual([]);
            // What is validated is what is written.
            expect(JSON.parse(JSON.stringify(decision.record))).toEqual(decision.record);
          } else {
            expect(decision.reasons.length).toBeGreaterThan(0);
            if (chunks.size < count)
              expect(decision.reasons.some((r) => r.code === 'MISSING_OUTPUT')).toBe(true);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('accepts a valid record whatever wrapping the model put around it', () => {
    const valid = { merchant_name: 'Corner Cafe', date: '2024-12-25', total: 24.84, currency: 'GBP' };
    fc.assert(
      fc.property(
        fc.constantFrom('', 'Here:\n', 'Result → '),
        fc.constantFrom('plain', 'fenced', 'trailing', 'comment'),
        (prefix, style) => {
          const json = JSON.stringify(valid, null, 1);
          const text =
            style === 'fenced'
              ? `${prefix}\`\`\`json\n${json}\n\`\`\``
              : style === 'trailing'
                ? `${prefix}${json.replace(/\n}$/, ',\n}')}`
                : style === 'comment'
                  ? `${prefix}${json.replace('{', '{ // ok\n')}`
                  : `${prefix}${json}`;
          const outcome = interpretOutputLine(
            { modelOutput: { content: [{ type: 'text', text }], stop_reason: 'end_turn' } },
            anthropic,
            schema,
            'j',
          );
          const decision = decideDocument(new Map([[0, outcome]]), 1, validate);
          expect(decision).toMatchObject({ kind: 'result', record: valid });
        },
      ),
    );
  });
});
