import { describe, expect, it } from 'vitest';
import { isKeyCell, splitCells } from '../../../../../src/adapters/local/bedrock/rules-cells.ts';

describe('Function: splitCells', () => {
  it('returns the blocks of a row separated by two or more spaces, tabs and spaced pipes', () => {
    // Act
    const cells = splitCells('Sheffield S3 8AB  Invoice Number:   INV-2041\tx | Fax: 0115');

    // Assess
    expect(cells.map((c) => c.text)).toEqual([
      'Sheffield S3 8AB',
      'Invoice Number:',
      'INV-2041',
      'x',
      'Fax: 0115',
    ]);
    expect(cells[1]).toMatchObject({ start: 18, end: 33 });
  });

  it('returns one cell for words joined by single spaces', () => {
    // Act
    const cells = splitCells('Date: 25/12/2024 Time: 09:41');

    // Assess
    expect(cells.map((c) => c.text)).toEqual(['Date: 25/12/2024 Time: 09:41']);
  });

  it('returns every Markdown cell, empty ones included, in column order', () => {
    // Act
    const cells = splitCells('| | | Net amount | € 4,580.00 |');

    // Assess
    expect(cells.map((c) => c.text)).toEqual(['', '', 'Net amount', '€ 4,580.00']);
  });
});

describe('Function: isKeyCell', () => {
  it.each([
    ['Payment Terms:', true],
    ['Currency', true],
    ['INV-2041', false],
    ['£3,384.72', false],
  ])('returns whether %j reads as a key', (text, key) => {
    // Act
    const result = isKeyCell(text);

    // Assess
    expect(result).toBe(key);
  });
});
