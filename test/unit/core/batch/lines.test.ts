import { describe, expect, it } from 'vitest';
import { BatchedLines, linePieces } from '../../../../src/core/batch/lines.ts';

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
