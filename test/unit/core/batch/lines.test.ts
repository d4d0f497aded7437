import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchedLines, LineSlices, linePieces, lineRuns } from '../../../../src/core/batch/lines.ts';

describe('Class: BatchedLines', () => {
  it('writes lines in pieces of about the given size, everything once and in order, then closes', async () => {
    const writes: string[] = [];
    let closed = false;
    const lines = new BatchedLines(
      {
        write: async (d) => {
          writes.push(d);
        },
        close: async () => {
          closed = true;
        },
      },
      10,
    );
    for (let i = 0; i < 20; i++) await lines.add(`line ${i}\n`);
    await lines.close();
    expect(closed).toBe(true);
    expect(writes.join('')).toBe(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(''));
    expect(writes.length).toBeGreaterThan(5);
    expect(writes.every((w) => w.length < 10 + 'line 19\n'.length)).toBe(true);
  });

  it('never has two writes in flight, however many callers add without awaiting each other', async () => {
    const writes: string[] = [];
    let inFlight = 0;
    let most = 0;
    const lines = new BatchedLines(
      {
        write: async (d) => {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 1));
          writes.push(d);
          inFlight--;
        },
        close: async () => {},
      },
      10,
    );
    const expected = Array.from({ length: 40 }, (_, i) => `line ${i}\n`);
    await Promise.all(expected.map((l) => lines.add(l)));
    await lines.close();
    expect(most).toBe(1);
    expect(writes.join('')).toBe(expected.join(''));
  });
});

describe('Function: linePieces', () => {
  const bytes = new TextEncoder().encode('aaaa\nbb\ncccccccc\nd\n€€\nlast');
  const texts = (size: number) => [...linePieces(bytes, size)].map((p) => new TextDecoder().decode(p));

  it('cuts after the first newline at or past each size, so every piece holds whole lines', () => {
    expect(texts(3)).toEqual(['aaaa\n', 'bb\ncccccccc\n', 'd\n€€\n', 'last']);
    expect(texts(1000)).toEqual(['aaaa\nbb\ncccccccc\nd\n€€\nlast']);
    for (const size of [1, 2, 5, 7, 11]) expect(texts(size).join('')).toBe(new TextDecoder().decode(bytes));
  });

  it('gives nothing for no bytes', () => {
    expect([...linePieces(new Uint8Array(), 4)]).toEqual([]);
  });
});

describe('Function: lineRuns', () => {
  const text = fc
    .array(
      fc.string({ unit: 'grapheme', maxLength: 40 }).map((l) => l.replace(/\n/g, ' ')),
      { maxLength: 60 },
    )
    .map((lines) => lines.map((l) => `${l}\n`).join(''));

  async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
    let start = 0;
    for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
      yield bytes.subarray(start, Math.max(start, cut));
      start = Math.max(start, cut);
    }
    yield bytes.subarray(start);
  }

  it('gives back the stream whole, in runs of whole lines of at least the size, each in its own buffer', async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 200 }),
        async (t, unterminated, cuts, minBytes) => {
          const bytes = new TextEncoder().encode(unterminated ? `${t}tail` : t);
          const runs: Uint8Array[] = [];
          for await (const run of lineRuns(chunked(bytes, cuts), minBytes)) runs.push(run);
          expect(Buffer.concat(runs).equals(Buffer.from(bytes))).toBe(true);
          for (const [i, run] of runs.entries()) {
            expect(run.byteOffset === 0 && run.byteLength === run.buffer.byteLength).toBe(true);
            expect(run.length).toBeGreaterThan(0);
            if (i === runs.length - 1) continue;
            expect(run.at(-1)).toBe(10);
            expect(run.length).toBeGreaterThanOrEqual(minBytes);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a line longer than the size whole, however the stream cuts it', async () => {
    const line = `${'x'.repeat(50)}\n`;
    const bytes = new TextEncoder().encode(line + line);
    const runs: string[] = [];
    for await (const run of lineRuns(chunked(bytes, [7, 30, 51, 60]), 10))
      runs.push(Buffer.from(run).toString());
    expect(runs).toEqual([line, line]);
  });
});

describe('Class: LineSlices', () => {
  async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
    let at = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      if (cut > at && cut < bytes.length) {
        yield bytes.slice(at, cut);
        at = cut;
      }
    }
    if (at < bytes.length) yield bytes.slice(at);
  }

  it('gives each slice its lines, whatever the chunks, the order asked and a short stream', async () => {
    const input = fc.record({
      lines: fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replaceAll('\n', ' '))),
      counts: fc.array(fc.nat(4), { maxLength: 8 }),
      cuts: fc.array(fc.nat(200)),
      trailingNewline: fc.boolean(),
      order: fc.array(fc.nat(20)),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ lines, counts, cuts, trailingNewline, order }) => {
        const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
        const bytes = new TextEncoder().encode(text);
        const slices = new LineSlices(chunked(bytes, cuts), counts);
        // The slices asked for in a shuffled order, each once; what they hold, put back in order.
        const asked = [
          ...new Set([...order.map((i) => i % Math.max(1, counts.length)), ...counts.keys()]),
        ].filter((i) => i < counts.length);
        const got = new Map<number, string>();
        await Promise.all(asked.map(async (i) => got.set(i, new TextDecoder().decode(await slices.take(i)))));
        // Expected: the lines in order, `counts[i]` at a time, newlines kept as the stream has them.
        const all = text.length === 0 ? [] : text.split(/(?<=\n)/);
        let at = 0;
        for (const [i, n] of counts.entries()) {
          expect(got.get(i)).toBe(all.slice(at, at + n).join(''));
          at += n;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('BatchedLines: waiting', () => {
  it('lets adds through while at most two pieces wait behind the one being written, then holds them', async () => {
    const release: (() => void)[] = [];
    const writes: string[] = [];
    const lines = new BatchedLines(
      {
        write: (d) =>
          new Promise<void>((resolve) =>
            release.push(() => {
              writes.push(d);
              resolve();
            }),
          ),
        close: async () => {},
      },
      5,
    );
    // Each add fills a piece: the first is being written, the next two wait, the fourth add waits.
    for (let i = 0; i < 3; i++) await lines.add(`line${i}\n`);
    let fourthDone = false;
    const fourth = lines.add('line3\n').then(() => {
      fourthDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fourthDone).toBe(false);
    while (!fourthDone) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await fourth;
    const closed = lines.close();
    while (release.length > 0 || writes.length < 4) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await closed;
    expect(writes).toEqual(['line0\n', 'line1\n', 'line2\n', 'line3\n']);
  });

  it('rethrows a failed write from the next add, flush or close', async () => {
    let fail = true;
    const lines = new BatchedLines(
      {
        write: async () => {
          if (fail) throw new Error('disk full');
        },
        close: async () => {},
      },
      5,
    );
    await lines.add('line0\n');
    await new Promise((resolve) => setTimeout(resolve, 1));
    fail = false;
    await expect(lines.add('line1\n')).rejects.toThrow('disk full');
    await expect(lines.flush()).rejects.toThrow('disk full');
    await expect(lines.close()).rejects.toThrow('disk full');
  });
});

describe('LineSlices: the stream', () => {
  it('is closed once the last slice is cut, lines beyond it unread', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < 100; i++) yield new TextEncoder().encode(`line ${i}\n`);
      } finally {
        closed = true;
      }
    }
    const slices = new LineSlices(source(), [2, 1]);
    expect(new TextDecoder().decode(await slices.take(0))).toBe('line 0\nline 1\n');
    expect(closed).toBe(false);
    expect(new TextDecoder().decode(await slices.take(1))).toBe('line 2\n');
    expect(closed).toBe(true);
  });
});
