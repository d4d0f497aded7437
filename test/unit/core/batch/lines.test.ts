import { describe, expect, it } from 'vitest';
import { BatchedLines } from '../../../../src/core/batch/lines.ts';

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
});
