import { describe, expect, it } from 'vitest';
import {
  classTable,
  closestGlyph,
  convexHull,
  cropWidth,
  ctcDecode,
  DEFAULT_DETECTION,
  type DecodedChar,
  detectionSize,
  finerDetectionSide,
  type GlyphTemplate,
  glyphShape,
  glyphSimilarity,
  type InkProfile,
  inkProfile,
  insideNumber,
  isLatinText,
  minAreaRect,
  otsuThreshold,
  type Quad,
  quadBox,
  quadPoint,
  readingOrder,
  rectQuad,
  restoreCurrencySigns,
  sampleQuad,
  scaleQuad,
  splitWords,
  type TextRegion,
  textRegions,
  unclip,
  wordGaps,
} from '../../../../../src/adapters/local/textract/paddle-postprocess.ts';

/** A probability map with `value` inside each axis-aligned rectangle [x0, y0, x1, y1) and 0 elsewhere. */
function probMap(
  width: number,
  height: number,
  rects: [number, number, number, number, number][],
): Float32Array {
  const prob = new Float32Array(width * height);
  for (const [x0, y0, x1, y1, value] of rects)
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) prob[y * width + x] = value;
  return prob;
}

const angleOf = (q: Quad) => (Math.atan2(q.across.y, q.across.x) * 180) / Math.PI;
const lengthOf = (v: { x: number; y: number }) => Math.hypot(v.x, v.y);

describe('Function: detectionSize', () => {
  it('returns the longer side scaled down to the limit, both sides multiples of 32, never enlarged', () => {
    expect(detectionSize(2481, 3508, 960)).toEqual({ width: 672, height: 960 });
    expect(detectionSize(463, 1013, 1920)).toEqual({ width: 448, height: 1024 });
    expect(detectionSize(10, 10, 960)).toEqual({ width: 32, height: 32 });
  });
});

describe('Function: minAreaRect', () => {
  it('returns an axis-aligned rectangle for axis-aligned points, its long side along the text', () => {
    const rect = minAreaRect(
      convexHull([
        { x: 10, y: 20 },
        { x: 110, y: 20 },
        { x: 110, y: 40 },
        { x: 10, y: 40 },
        { x: 50, y: 30 },
      ]),
    );
    expect(rect.center).toEqual({ x: 60, y: 30 });
    expect(rect.axis).toEqual({ x: 1, y: 0 });
    expect(rect.length).toBeCloseTo(100);
    expect(rect.thickness).toBeCloseTo(20);
  });

  it('returns the slant of a rotated rectangle, and keeps a tall single glyph upright', () => {
    const a = (10 * Math.PI) / 180;
    const corner = (u: number, v: number) => ({
      x: 200 + u * Math.cos(a) - v * Math.sin(a),
      y: 100 + u * Math.sin(a) + v * Math.cos(a),
    });
    const rect = minAreaRect(
      convexHull([corner(-80, -10), corner(80, -10), corner(80, 10), corner(-80, 10)]),
    );
    expect((Math.atan2(rect.axis.y, rect.axis.x) * 180) / Math.PI).toBeCloseTo(10, 4);
    expect(rect.length).toBeCloseTo(160, 4);
    expect(rect.thickness).toBeCloseTo(20, 4);
    // A '1' is taller than wide: its axis stays horizontal rather than turning the glyph sideways.
    const tall = minAreaRect(
      convexHull([
        { x: 0, y: 0 },
        { x: 8, y: 0 },
        { x: 8, y: 30 },
        { x: 0, y: 30 },
      ]),
    );
    expect(tall.axis).toEqual({ x: 1, y: 0 });
    expect(tall.length).toBeCloseTo(8);
    expect(tall.thickness).toBeCloseTo(30);
  });
});

describe('Function: unclip', () => {
  it('returns the rectangle grown by area × ratio / perimeter on every side', () => {
    const rect = { center: { x: 0, y: 0 }, axis: { x: 1, y: 0 }, length: 100, thickness: 10 };
    // d = 100 · 10 · 1.5 / 220 = 6.818…
    const grown = unclip(rect, 1.5);
    expect(grown.length).toBeCloseTo(100 + 2 * (1500 / 220));
    expect(grown.thickness).toBeCloseTo(10 + 2 * (1500 / 220));
  });
});

describe('Function: textRegions', () => {
  it('returns one unclipped region per text kernel, dropping specks and weak regions', () => {
    // Two lines, a 2-px speck, and a faint blob whose mean probability stays under the box threshold.
    const prob = probMap(200, 100, [
      [20, 10, 180, 20, 0.9],
      [20, 40, 120, 50, 0.8],
      [150, 70, 152, 72, 0.9],
      [20, 70, 60, 80, 0.4],
    ]);
    const regions = textRegions(prob, 200, 100);
    expect(regions).toHaveLength(2);
    const [first, second] = regions as [TextRegion, TextRegion];
    expect(first.score).toBeCloseTo(0.9, 5);
    expect(angleOf(first.quad)).toBeCloseTo(0, 6);
    // Kernel 160 × 10, grown by 160·10·1.5/340 on every side.
    const d = (160 * 10 * 1.5) / 340;
    expect(lengthOf(first.quad.across)).toBeCloseTo(160 + 2 * d);
    expect(lengthOf(first.quad.down)).toBeCloseTo(10 + 2 * d);
    expect(first.quad.origin.x).toBeCloseTo(20 - d);
    expect(first.quad.origin.y).toBeCloseTo(10 - d);
    expect(second.score).toBeCloseTo(0.8, 5);
  });

  it('returns a slanted region along a slanted kernel, and two regions for kernels touching at a corner', () => {
    const width = 300;
    const height = 120;
    const prob = new Float32Array(width * height);
    // A line rising 5 px over 200 px (about 1.4°), 8 px thick.
    for (let x = 40; x < 240; x++) {
      const top = Math.round(60 - ((x - 40) * 5) / 200);
      for (let y = top; y < top + 8; y++) prob[y * width + x] = 0.9;
    }
    // Two squares meeting only diagonally (4-connectivity keeps them apart).
    for (const [x0, y0] of [
      [10, 10],
      [20, 20],
    ] as const)
      for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) prob[y * width + x] = 0.9;
    const regions = textRegions(prob, width, height);
    expect(regions).toHaveLength(3);
    const line = regions.find((r) => lengthOf(r.quad.across) > 150) as TextRegion;
    expect(angleOf(line.quad)).toBeCloseTo((-Math.atan2(5, 200) * 180) / Math.PI, 0);
    expect(angleOf(line.quad)).toBeLessThan(0);
  });

  it('keeps at most maxRegions, the largest', () => {
    const rects: [number, number, number, number, number][] = [
      [0, 0, 40, 10, 0.9],
      [0, 20, 100, 30, 0.9],
      [0, 40, 20, 50, 0.9],
    ];
    const regions = textRegions(probMap(120, 60, rects), 120, 60, { ...DEFAULT_DETECTION, maxRegions: 1 });
    expect(regions).toHaveLength(1);
    expect(lengthOf(regions[0]?.quad.across ?? { x: 0, y: 0 })).toBeGreaterThan(100);
  });
});

describe('Function: finerDetectionSide', () => {
  const region = (thickness: number): TextRegion => ({
    quad: { origin: { x: 0, y: 0 }, across: { x: 100, y: 0 }, down: { x: 0, y: thickness } },
    score: 0.9,
  });

  it('returns a larger side when the median region is thinner than the target, within the limits', () => {
    expect(finerDetectionSide([region(12), region(12), region(40)], 960, 5000, 24, 1920)).toBe(1920);
    expect(finerDetectionSide([region(16), region(16), region(16)], 960, 5000, 24, 1920)).toBe(1440);
    // Never past the image's own size.
    expect(finerDetectionSide([region(12), region(12)], 960, 1300, 24, 1920)).toBe(1300);
  });

  it('returns undefined when the text is thick enough, the gain is small, or nothing was found', () => {
    expect(finerDetectionSide([region(30)], 960, 5000, 24, 1920)).toBeUndefined();
    expect(finerDetectionSide([region(22)], 960, 5000, 24, 1920)).toBeUndefined();
    expect(finerDetectionSide([region(12)], 960, 1013, 24, 1920)).toBeUndefined();
    expect(finerDetectionSide([], 960, 5000, 24, 1920)).toBeUndefined();
  });
});

describe('Function: quad geometry', () => {
  const quad: Quad = { origin: { x: 10, y: 20 }, across: { x: 100, y: 10 }, down: { x: -2, y: 20 } };

  it('returns points at fractions of the quad and their axis-aligned box, clipped to the image', () => {
    expect(quadPoint(quad, 0.5, 0.5)).toEqual({ x: 59, y: 35 });
    expect(quadBox(quad, 1000, 1000)).toEqual({ left: 8, top: 20, right: 110, bottom: 50 });
    expect(quadBox(quad, 1000, 1000, 0.5, 1, 0, 1)).toEqual({ left: 58, top: 25, right: 110, bottom: 50 });
    expect(quadBox(quad, 100, 40)).toEqual({ left: 8, top: 20, right: 100, bottom: 40 });
  });

  it('returns a quad scaled per axis, and rectQuad corners around the centre', () => {
    expect(scaleQuad(quad, 2, 3)).toEqual({
      origin: { x: 20, y: 60 },
      across: { x: 200, y: 30 },
      down: { x: -4, y: 60 },
    });
    const q = rectQuad({ center: { x: 50, y: 50 }, axis: { x: 1, y: 0 }, length: 40, thickness: 10 });
    const rounded = (p: { x: number; y: number }) => [p.x, p.y].map((v) => Math.round(v) + 0);
    expect([q.origin, q.across, q.down].map(rounded)).toEqual([
      [30, 45],
      [40, 0],
      [0, 10],
    ]);
  });

  it('returns the recognition width keeping the aspect ratio, at least the minimum', () => {
    expect(cropWidth({ origin: { x: 0, y: 0 }, across: { x: 300, y: 0 }, down: { x: 0, y: 30 } }, 48)).toBe(
      480,
    );
    expect(cropWidth({ origin: { x: 0, y: 0 }, across: { x: 3, y: 0 }, down: { x: 0, y: 30 } }, 48)).toBe(16);
  });
});

describe('Function: sampleQuad', () => {
  it('returns a slanted band straightened: every sampled row is uniform', () => {
    // A 200 × 100 image, white, with a dark band rising 20 px over its width.
    const width = 200;
    const height = 100;
    const pixels = new Uint8Array(width * height).fill(255);
    for (let x = 0; x < width; x++) {
      const top = 50 - (x * 20) / 200;
      for (let y = 0; y < height; y++) if (y >= top && y < top + 10) pixels[y * width + x] = 0;
    }
    const quad: Quad = { origin: { x: 0, y: 50 }, across: { x: 200, y: -20 }, down: { x: 0, y: 10 } };
    const out = sampleQuad({ width, height, pixels }, quad, 40, 4);
    for (let y = 1; y < 3; y++) for (let x = 2; x < 38; x++) expect(out[y * 40 + x]).toBeLessThan(40);
  });

  it('returns white outside the image and averages when shrinking', () => {
    const pixels = new Uint8Array(4 * 4).fill(0);
    const outside = sampleQuad(
      { width: 4, height: 4, pixels },
      { origin: { x: 10, y: 10 }, across: { x: 4, y: 0 }, down: { x: 0, y: 4 } },
      2,
      2,
    );
    expect([...outside]).toEqual([255, 255, 255, 255]);
    // Alternating black and white columns shrunk 4× read as mid-gray, not as one or the other.
    const stripes = new Uint8Array(40 * 4).map((_, i) => (i % 2 === 0 ? 0 : 255));
    const shrunk = sampleQuad(
      { width: 40, height: 4, pixels: stripes },
      { origin: { x: 0, y: 0 }, across: { x: 40, y: 0 }, down: { x: 0, y: 4 } },
      10,
      1,
    );
    for (const v of shrunk) expect(v).toBeGreaterThan(60);
    for (const v of shrunk) expect(v).toBeLessThan(195);
  });
});

describe('Function: classTable', () => {
  it('returns the blank, the dictionary as Latin text (full-width forms folded) and the space', () => {
    const table = classTable(['a', 'Ａ', '：', '。', '中', 'Ο', 'é', '€', '￡', '　']);
    expect(table).toEqual(['', 'a', 'A', ':', '.', undefined, undefined, 'é', '€', '£', ' ', ' ']);
  });

  it('returns whether text is Latin script, punctuation or currency', () => {
    expect(isLatinText('Straße 5, 12,50 € — “ok”')).toBe(true);
    expect(isLatinText('Москва')).toBe(false);
    expect(isLatinText('')).toBe(false);
  });
});

describe('Function: ctcDecode', () => {
  /** Probabilities of `classes` classes over steps, each step one-hot on its class with probability `p`. */
  function steps(classes: number, path: (number | [number, number][])[]): Float32Array {
    const out = new Float32Array(path.length * classes);
    for (const [t, c] of path.entries()) {
      if (typeof c === 'number') out[t * classes + c] = 0.9;
      else for (const [k, p] of c) out[t * classes + k] = p;
    }
    return out;
  }
  const table = ['', 'l', 'O', 'ö', undefined, ' '];

  it('returns characters with their steps, repeats collapsed, blanks separating doubled letters', () => {
    const chars = ctcDecode(steps(6, [0, 1, 1, 0, 1, 2, 2, 5, 3]), 0, 9, 6, table);
    expect(chars.map((c) => c.text).join('')).toBe('llO ö');
    expect(chars.map((c) => c.step)).toEqual([1, 4, 5, 7, 8]);
    expect(chars[0]?.p).toBeCloseTo(0.9);
  });

  it('returns the best Latin class (or nothing) where a class the table leaves out wins', () => {
    // Step 1: the unknown class 4 wins, 'O' is second; step 3: class 4 wins, the blank is second.
    const probs = steps(6, [
      0,
      [
        [4, 0.7],
        [2, 0.2],
      ],
      0,
      [
        [4, 0.6],
        [0, 0.3],
      ],
    ]);
    expect(ctcDecode(probs, 0, 4, 6, table).map((c) => c.text)).toEqual(['O']);
  });

  it('returns the space probability the model reached since the previous character, and reads at an offset', () => {
    const probs = steps(6, [
      [[1, 0.9]],
      [
        [0, 0.9],
        [5, 0.04],
      ],
      [[2, 0.9]],
    ]);
    const padded = new Float32Array(6 + probs.length);
    padded.set(probs, 6);
    const chars = ctcDecode(padded, 6, 3, 6, table);
    expect(chars.map((c) => [c.text, c.space])).toEqual([
      ['l', 0],
      ['O', expect.closeTo(0.04, 6)],
    ]);
  });
});

describe('Function: otsuThreshold and inkProfile', () => {
  /** A crop (0–255) drawn from rows of '#' (ink) and '.' (paper). */
  function crop(rows: string[]): { data: Float32Array; width: number; height: number } {
    const width = rows[0]?.length ?? 0;
    const data = new Float32Array(width * rows.length);
    for (const [y, row] of rows.entries())
      for (let x = 0; x < width; x++) data[y * width + x] = row[x] === '#' ? 20 : 230;
    return { data, width, height: rows.length };
  }

  it('returns a threshold between ink and paper', () => {
    const t = otsuThreshold([10, 12, 15, 240, 245, 250, 250]);
    expect(t).toBeGreaterThanOrEqual(15);
    expect(t).toBeLessThan(240);
  });

  it('returns the ink columns of the text rows, ignoring a rule across the crop', () => {
    const c = crop([
      '####################',
      '....................',
      '.##..##.....###.....',
      '.##..##.....###.....',
      '.##..##.....###.....',
      '....................',
    ]);
    const ink = inkProfile(c.data, c.width, c.height);
    expect(ink.top).toBe(2);
    expect(ink.bottom).toBe(5);
    expect([...ink.columns].join('')).toBe('01100110000011100000');
  });

  it('returns the columns of italic text read along its slant', () => {
    // Strokes leaning 0.2 px a row (about 11°), two a word: upright, their columns run together.
    const shift = (y: number) => Math.round(0.2 * (4.5 - y));
    const rows = Array.from({ length: 10 }, (_, y) =>
      Array.from({ length: 18 }, (_, x) => ([3, 5, 11, 13].includes(x - shift(y)) ? '#' : '.')).join(''),
    );
    const c = crop(rows);
    const ink = inkProfile(c.data, c.width, c.height);
    expect([...ink.columns].join('')).toBe('000101000001010000');
  });
});

describe('Function: splitWords', () => {
  /** An ink profile from a column pattern ('#' ink), text rows 10–38 of a 48-px crop. */
  function ink(columns: string): InkProfile {
    return {
      columns: Uint8Array.from(columns, (c) => (c === '#' ? 1 : 0)),
      top: 10,
      bottom: 38,
      threshold: 128,
    };
  }
  const char = (text: string, step: number, space = 0): DecodedChar => ({ text, step, p: 0.9, space });

  it('returns words split at decoded spaces and at near-miss spaces', () => {
    const words = splitWords(
      [char('a', 0), char('b', 1), char(' ', 2), char('c', 3), char('d', 4, 0.2)],
      8,
      ink('#'.repeat(40)),
    );
    expect(words.map((w) => w.text)).toEqual(['ab', 'c', 'd']);
  });

  it('returns words split at a wide ink gap between distant characters, never inside a number', () => {
    // Letters 2 px apart; 20 px between the second and third character.
    const columns = `####..####..####${'.'.repeat(20)}####..####..####`;
    const letters = [char('T', 0), char('o', 1), char('p', 4), char('s', 5)];
    expect(splitWords(letters, 8, ink(columns)).map((w) => w.text)).toEqual(['To', 'ps']);
    const digits = [char('1', 0), char('2', 1), char('3', 4), char('4', 5)];
    expect(splitWords(digits, 8, ink(columns)).map((w) => w.text)).toEqual(['1234']);
  });

  it('returns word boxes spanning their characters, shrunk to the ink', () => {
    const columns = `....${'#'.repeat(12)}${'.'.repeat(20)}${'#'.repeat(12)}....`;
    const words = splitWords([char('a', 0), char('b', 1), char(' ', 3), char('c', 5)], 8, ink(columns));
    expect(words.map((w) => [w.text, w.left, w.right, w.top, w.bottom])).toEqual([
      ['ab', 4, 16, 10, 38],
      ['c', 36, 48, 10, 38],
    ]);
  });

  it('returns only inner blank runs as gaps, with their strength over the minimum', () => {
    const gaps = wordGaps(ink(`....##.##.##${'.'.repeat(20)}##.##....`));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.centre).toBe(22);
    expect(gaps[0]?.strength).toBeCloseTo(20 / (0.3 * 28));
  });
});

describe('Function: insideNumber', () => {
  const chars = (s: string) => [...s].map((text) => ({ text }));

  it('returns true inside amounts, dates and times, false at a label’s colon or after a letter', () => {
    const date = chars('25/12/2024');
    expect([...date.keys()].slice(1).every((i) => insideNumber(date, i))).toBe(true);
    const label = chars('TEL:03');
    expect(insideNumber(label, 4)).toBe(false);
    expect(insideNumber(label, 5)).toBe(true);
    const no = chars('NO.5');
    expect(insideNumber(no, 3)).toBe(false);
  });
});

describe('Function: readingOrder', () => {
  it('returns lines by row, top to bottom, each row left to right', () => {
    const line = (name: string, left: number, top: number, bottom: number) => ({
      name,
      box: { left, top, right: left + 10, bottom },
    });
    const ordered = readingOrder([
      line('total', 50, 101, 111),
      line('label', 0, 100, 110),
      line('title', 20, 10, 30),
      line('last', 0, 200, 210),
    ]);
    expect(ordered.map((l) => l.name)).toEqual(['title', 'label', 'total', 'last']);
  });
});

describe('Function: glyph matching', () => {
  /** A glyph from rows of '#' and '.', as 0/255 pixels. */
  function glyph(rows: string[]) {
    const width = rows[0]?.length ?? 0;
    const pixels = Uint8Array.from(rows.join(''), (c) => (c === '#' ? 0 : 255));
    return glyphShape(pixels, width, 127, { left: 0, top: 0, right: width, bottom: rows.length });
  }
  const bar = glyph(['..........', '.########.', '.########.', '..........']);
  const post = glyph(['..##..', '..##..', '..##..', '..##..', '..##..']);
  const cross = glyph(['..##..', '######', '..##..', '..##..']);

  it('returns the ink box’s proportions and height, and nothing for a blank area', () => {
    expect(bar?.aspect).toBeCloseTo(4);
    expect(bar?.height).toBe(2);
    expect(glyph(['....', '....'])).toBeUndefined();
  });

  it('returns 1 for the same shape and less for other shapes and proportions', () => {
    if (!bar || !post || !cross) throw new Error('fixtures');
    expect(glyphSimilarity(cross, cross)).toBeCloseTo(1);
    expect(glyphSimilarity(cross, bar)).toBeLessThan(0.5);
    const templates: GlyphTemplate[] = [
      { symbol: '+', shape: cross },
      { symbol: '|', shape: post },
    ];
    expect(closestGlyph(cross, templates)?.symbol).toBe('+');
  });
});

describe('Function: restoreCurrencySigns', () => {
  const WIDTH = 48;
  const HEIGHT = 48;
  /** A 48-px line crop: white, with filled rectangles [left, top, right, bottom) and a cross glyph at `cross`. */
  function line(rects: [number, number, number, number][], cross?: number) {
    const crop = new Float32Array(WIDTH * HEIGHT).fill(240);
    const fill = (l: number, t: number, r: number, b: number) => {
      for (let y = t; y < b; y++) for (let x = l; x < r; x++) crop[y * WIDTH + x] = 10;
    };
    for (const r of rects) fill(...r);
    if (cross !== undefined) {
      fill(cross + 4, 10, cross + 8, 38);
      fill(cross, 20, cross + 12, 24);
    }
    return crop;
  }
  /** Templates drawn the same way: the cross is a currency sign here, a solid block a letter. */
  function templates(): GlyphTemplate[] {
    const shape = (crop: Float32Array, left: number, right: number) =>
      glyphShape(crop, WIDTH, 127, { left, top: 0, right, bottom: HEIGHT });
    const cross = shape(line([], 0), 0, 12);
    const block = shape(line([[0, 10, 12, 38]]), 0, 12);
    if (!cross || !block) throw new Error('fixtures');
    return [
      { symbol: '£', shape: cross },
      { symbol: 'E', shape: block },
    ];
  }
  const digits: [number, number, number, number][] = [
    [20, 10, 27, 38],
    [30, 10, 37, 38],
  ];
  const char = (text: string, step: number): DecodedChar => ({ text, step, p: 0.9, space: 0 });

  it('returns a sign inserted where ink beside a number went unread', () => {
    const crop = line(digits, 4);
    const ink = inkProfile(crop, WIDTH, HEIGHT);
    const chars = restoreCurrencySigns(
      [char('2', 3), char('4', 4)],
      8,
      crop,
      WIDTH,
      HEIGHT,
      ink,
      templates(),
    );
    expect(chars.map((c) => c.text).join('')).toBe('£24');
    expect(chars[0]?.step).toBeCloseTo(10 / 8 - 0.5);
  });

  it('returns a lone look-alike letter beside a number replaced, and anything else left alone', () => {
    const crop = line(digits, 4);
    const ink = inkProfile(crop, WIDTH, HEIGHT);
    const replaced = restoreCurrencySigns(
      [char('E', 1), char('2', 2), char('4', 3)],
      8,
      crop,
      WIDTH,
      HEIGHT,
      ink,
      templates(),
    );
    expect(replaced.map((c) => c.text).join('')).toBe('£24');
    // A block is the letter it looks like; unread ink away from digits is not looked at.
    const block = line([[4, 10, 16, 38], ...digits]);
    const kept = restoreCurrencySigns(
      [char('2', 2), char('4', 3)],
      8,
      block,
      WIDTH,
      HEIGHT,
      inkProfile(block, WIDTH, HEIGHT),
      templates(),
    );
    expect(kept.map((c) => c.text).join('')).toBe('24');
    const alone = line([], 4);
    expect(
      restoreCurrencySigns([], 8, alone, WIDTH, HEIGHT, inkProfile(alone, WIDTH, HEIGHT), templates()),
    ).toEqual([]);
  });
});
