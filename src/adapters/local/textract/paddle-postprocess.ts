/**
 * The model-free half of the PP-OCR engine (paddle-ocr.ts): everything between the ONNX models'
 * tensors and Textract-shaped lines, written as plain functions over typed arrays so it can be
 * tested without the models. Detection output (a text probability map) becomes rotated text
 * regions (DB post-processing: threshold, connected components, minimum-area rectangle, box score,
 * unclip); recognition output (per time step class probabilities) becomes characters with their
 * time steps (greedy CTC), then words split at decoded spaces and at ink gaps in the line image.
 *
 * Coordinates are pixels with y pointing down. Regions are parallelograms (`Quad`) so a skewed
 * scan's lines are cropped along their own slant instead of as axis-aligned boxes that cut into
 * the lines above and below.
 */

export interface Point {
  x: number;
  y: number;
}

/**
 * A text region: `origin` is its top-left corner, `across` runs along the text (the top edge),
 * `down` from the top edge to the bottom edge. A point at fractions (u, v) of the region is
 * origin + u·across + v·down.
 */
export interface Quad {
  origin: Point;
  across: Point;
  down: Point;
}

/** An axis-aligned box in pixels. */
export interface PixelBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A grayscale image, one byte a pixel, rows packed. */
export interface GrayImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Detection

export interface DetectionOptions {
  /** A pixel is text when its probability exceeds this (PaddleOCR's det_db_thresh). */
  threshold: number;
  /**
   * A region is kept when the mean probability inside its rectangle reaches this
   * (det_db_box_thresh). 0.5, not PaddleOCR's 0.6: the rectangle around a slanted or curled
   * receipt line takes in low-probability corners, and at 0.6 whole clear header lines were lost
   * (SROIE 017's merchant scored 0.55); recognition's confidence floor still drops noise.
   */
  boxThreshold: number;
  /** How far a region grows back out of the shrunk text kernel DB predicts (det_db_unclip_ratio). */
  unclipRatio: number;
  /** Regions whose shorter side is under this many map pixels are noise. */
  minSize: number;
  /** At most this many regions a page, largest first past it. */
  maxRegions: number;
}

export const DEFAULT_DETECTION: DetectionOptions = {
  threshold: 0.3,
  boxThreshold: 0.5,
  unclipRatio: 1.5,
  minSize: 3,
  maxRegions: 1000,
};

/**
 * The detection model's input size for an image: the image scaled so its longer side is at most
 * `maxSide` (never enlarged), each side rounded to a multiple of 32 as the network's strides need.
 */
export function detectionSize(
  width: number,
  height: number,
  maxSide: number,
): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height, 1));
  const round32 = (v: number) => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * A larger detection input for a page whose text came out small at the first one, or undefined
 * when the first is fine. DB boxes from text a few map pixels high are coarse (they cut into
 * letters or take in the neighbour line), which recognition pays for in dropped characters; so
 * when the median region is thinner than `targetThickness` map pixels, the longer side grows by
 * the missing factor, up to `maxSide` and never past the image's own size. Not worth a second
 * pass for less than a quarter more.
 */
export function finerDetectionSide(
  regions: readonly TextRegion[],
  detectionLongSide: number,
  imageLongSide: number,
  targetThickness: number,
  maxSide: number,
): number | undefined {
  const thickness = regions.map((r) => Math.hypot(r.quad.down.x, r.quad.down.y)).sort((a, b) => a - b);
  const median = thickness[Math.floor(thickness.length / 2)];
  if (median === undefined || median >= targetThickness) return undefined;
  const side = Math.min(maxSide, imageLongSide, (detectionLongSide * targetThickness) / median);
  return side >= detectionLongSide * 1.25 ? side : undefined;
}

/** Andrew's monotone chain: the convex hull of `points`, counter-clockwise in a y-down frame's terms. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (sorted.length <= 2) return sorted;
  const cross = (o: Point, a: Point, b: Point) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (
      lower.length >= 2 &&
      cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, p) <= 0
    )
      lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i] as Point;
    while (
      upper.length >= 2 &&
      cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, p) <= 0
    )
      upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return [...lower, ...upper];
}

/** A rectangle by its centre, a unit vector along one side, and the side lengths along it and across. */
export interface Rect {
  center: Point;
  axis: Point;
  length: number;
  thickness: number;
}

/**
 * The minimum-area rectangle around a convex hull (one of its sides lies on a hull edge), turned
 * so `axis` is the side closest to horizontal, pointing right: text on a document runs left to
 * right, and a square-ish single character must not be read sideways.
 */
export function minAreaRect(hull: readonly Point[]): Rect {
  let best: Rect | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  const n = hull.length;
  for (let i = 0; i < Math.max(n, 1); i++) {
    const a = hull[i] ?? { x: 0, y: 0 };
    const b = hull[(i + 1) % n] ?? a;
    let ux = b.x - a.x;
    let uy = b.y - a.y;
    const len = Math.hypot(ux, uy);
    if (len === 0) {
      ux = 1;
      uy = 0;
    } else {
      ux /= len;
      uy /= len;
    }
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const p of hull) {
      const u = p.x * ux + p.y * uy;
      const v = -p.x * uy + p.y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        center: { x: cu * ux - cv * uy, y: cu * uy + cv * ux },
        axis: { x: ux, y: uy },
        length: maxU - minU,
        thickness: maxV - minV,
      };
    }
  }
  const rect = best ?? { center: { x: 0, y: 0 }, axis: { x: 1, y: 0 }, length: 0, thickness: 0 };
  // The perpendicular side is closer to horizontal: swap the sides.
  if (Math.abs(rect.axis.y) > Math.abs(rect.axis.x)) {
    rect.axis = { x: rect.axis.y, y: -rect.axis.x };
    [rect.length, rect.thickness] = [rect.thickness, rect.length];
  }
  if (rect.axis.x < 0) rect.axis = { x: -rect.axis.x, y: -rect.axis.y };
  return rect;
}

/** The rectangle as a Quad: `across` along its axis, `down` perpendicular to it, pointing down. */
export function rectQuad(rect: Rect): Quad {
  const { center, axis, length, thickness } = rect;
  const normal = { x: -axis.y, y: axis.x };
  return {
    origin: {
      x: center.x - (axis.x * length) / 2 - (normal.x * thickness) / 2,
      y: center.y - (axis.y * length) / 2 - (normal.y * thickness) / 2,
    },
    across: { x: axis.x * length, y: axis.y * length },
    down: { x: normal.x * thickness, y: normal.y * thickness },
  };
}

/**
 * Grows a rectangle by the offset DB's unclip uses: area × ratio / perimeter on every side. The
 * model predicts text kernels shrunk by that much, so this restores the text's full extent.
 */
export function unclip(rect: Rect, ratio: number): Rect {
  const perimeter = 2 * (rect.length + rect.thickness);
  const d = perimeter > 0 ? (rect.length * rect.thickness * ratio) / perimeter : 0;
  return { ...rect, length: rect.length + 2 * d, thickness: rect.thickness + 2 * d };
}

/** Mean of `prob` over the map pixels whose centres lie inside the rectangle (DB's box score). */
export function rectScore(prob: Float32Array, width: number, height: number, rect: Rect): number {
  const { center, axis, length, thickness } = rect;
  const hu = length / 2;
  const hv = thickness / 2;
  const ex = Math.abs(axis.x) * hu + Math.abs(axis.y) * hv;
  const ey = Math.abs(axis.y) * hu + Math.abs(axis.x) * hv;
  const x0 = Math.max(0, Math.floor(center.x - ex));
  const x1 = Math.min(width - 1, Math.ceil(center.x + ex));
  const y0 = Math.max(0, Math.floor(center.y - ey));
  const y1 = Math.min(height - 1, Math.ceil(center.y + ey));
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - center.y;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - center.x;
      const u = dx * axis.x + dy * axis.y;
      const v = -dx * axis.y + dy * axis.x;
      if (Math.abs(u) <= hu && Math.abs(v) <= hv) {
        sum += prob[y * width + x] as number;
        n++;
      }
    }
  }
  return n > 0 ? sum / n : 0;
}

export interface TextRegion {
  quad: Quad;
  score: number;
}

/**
 * DB post-processing of a probability map (`width` × `height`, row-major): the text regions, in
 * map pixels. Each 4-connected component of above-threshold pixels is one region (4-connected so
 * two lines touching at a corner stay two); its pixel squares' convex hull gives the
 * minimum-area rectangle, which is scored on the map, then unclipped.
 */
export function textRegions(
  prob: Float32Array,
  width: number,
  height: number,
  options: DetectionOptions = DEFAULT_DETECTION,
): TextRegion[] {
  const n = width * height;
  const seen = new Uint8Array(n);
  // Pixels of the component being filled: a stack while filling, the member list afterwards.
  const members = new Int32Array(n);
  const rowMin = new Int32Array(height);
  const rowMax = new Int32Array(height);
  const regions: TextRegion[] = [];
  for (let start = 0; start < n; start++) {
    if (seen[start] || (prob[start] as number) <= options.threshold) continue;
    seen[start] = 1;
    members[0] = start;
    let count = 1;
    let minY = height;
    let maxY = -1;
    for (let k = 0; k < count; k++) {
      const p = members[k] as number;
      const x = p % width;
      const y = (p - x) / width;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const visit = (q: number) => {
        if (!seen[q] && (prob[q] as number) > options.threshold) {
          seen[q] = 1;
          members[count++] = q;
        }
      };
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (y > 0) visit(p - width);
      if (y < height - 1) visit(p + width);
    }
    if (maxY - minY + 1 < options.minSize || count < options.minSize * options.minSize) continue;
    rowMin.fill(width, minY, maxY + 1);
    rowMax.fill(-1, minY, maxY + 1);
    for (let k = 0; k < count; k++) {
      const p = members[k] as number;
      const x = p % width;
      const y = (p - x) / width;
      if (x < (rowMin[y] as number)) rowMin[y] = x;
      if (x > (rowMax[y] as number)) rowMax[y] = x;
    }
    // The pixel squares' outer corners: the hull of the component as drawn, not of pixel centres.
    const corners: Point[] = [];
    for (let y = minY; y <= maxY; y++) {
      const lo = rowMin[y] as number;
      const hi = rowMax[y] as number;
      if (hi < lo) continue;
      corners.push({ x: lo, y }, { x: hi + 1, y }, { x: lo, y: y + 1 }, { x: hi + 1, y: y + 1 });
    }
    const rect = minAreaRect(convexHull(corners));
    if (Math.min(rect.length, rect.thickness) < options.minSize) continue;
    const score = rectScore(prob, width, height, rect);
    if (score < options.boxThreshold) continue;
    const grown = unclip(rect, options.unclipRatio);
    if (Math.min(grown.length, grown.thickness) < options.minSize + 2) continue;
    regions.push({ quad: rectQuad(grown), score });
  }
  if (regions.length > options.maxRegions) {
    const area = (q: Quad) => Math.hypot(q.across.x, q.across.y) * Math.hypot(q.down.x, q.down.y);
    regions.sort((a, b) => area(b.quad) - area(a.quad));
    regions.length = options.maxRegions;
  }
  return regions;
}

/** A quad in another pixel grid: each axis scaled (detection map → image). */
export function scaleQuad(quad: Quad, sx: number, sy: number): Quad {
  const s = (p: Point) => ({ x: p.x * sx, y: p.y * sy });
  return { origin: s(quad.origin), across: s(quad.across), down: s(quad.down) };
}

/** The point at fractions (u, v) of a quad. */
export function quadPoint(quad: Quad, u: number, v: number): Point {
  return {
    x: quad.origin.x + u * quad.across.x + v * quad.down.x,
    y: quad.origin.y + u * quad.across.y + v * quad.down.y,
  };
}

/**
 * The axis-aligned box around the part of a quad between fractions `u0`–`u1` along the text and
 * `v0`–`v1` across it, clipped to the image.
 */
export function quadBox(
  quad: Quad,
  imageWidth: number,
  imageHeight: number,
  u0 = 0,
  u1 = 1,
  v0 = 0,
  v1 = 1,
): PixelBox {
  const pts = [
    quadPoint(quad, u0, v0),
    quadPoint(quad, u1, v0),
    quadPoint(quad, u1, v1),
    quadPoint(quad, u0, v1),
  ];
  const clampX = (v: number) => Math.min(Math.max(v, 0), imageWidth);
  const clampY = (v: number) => Math.min(Math.max(v, 0), imageHeight);
  return {
    left: clampX(Math.min(...pts.map((p) => p.x))),
    top: clampY(Math.min(...pts.map((p) => p.y))),
    right: clampX(Math.max(...pts.map((p) => p.x))),
    bottom: clampY(Math.max(...pts.map((p) => p.y))),
  };
}

/**
 * Samples a quad of a grayscale image into a `width` × `height` grid (row-major, 0–255 floats),
 * the quad's `across` along the grid's rows: the line straightened whatever its slant. Bilinear,
 * averaging several samples a cell when the quad is shrunk by more than 1.5×, so thin strokes do
 * not vanish between samples. Outside the image reads as white (paper).
 */
export function sampleQuad(image: GrayImage, quad: Quad, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const { pixels, width: w, height: h } = image;
  const stepU = Math.hypot(quad.across.x, quad.across.y) / Math.max(width, 1);
  const stepV = Math.hypot(quad.down.x, quad.down.y) / Math.max(height, 1);
  const su = Math.max(1, Math.min(4, Math.round(stepU / 1.5 + 0.49)));
  const sv = Math.max(1, Math.min(4, Math.round(stepV / 1.5 + 0.49)));
  const at = (x: number, y: number): number => {
    if (x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5) return 255;
    const fx = Math.min(Math.max(x, 0), w - 1);
    const fy = Math.min(Math.max(y, 0), h - 1);
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const x1 = Math.min(x0 + 1, w - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const dx = fx - x0;
    const dy = fy - y0;
    const top = (pixels[y0 * w + x0] as number) * (1 - dx) + (pixels[y0 * w + x1] as number) * dx;
    const bottom = (pixels[y1 * w + x0] as number) * (1 - dx) + (pixels[y1 * w + x1] as number) * dx;
    return top * (1 - dy) + bottom * dy;
  };
  const { origin, across, down } = quad;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      let sum = 0;
      for (let b = 0; b < sv; b++) {
        const v = (j + (b + 0.5) / sv) / height;
        for (let a = 0; a < su; a++) {
          const u = (i + (a + 0.5) / su) / width;
          // Pixel centres sit at integer coordinates, so a point at x samples pixel x - 0.5.
          sum += at(origin.x + u * across.x + v * down.x - 0.5, origin.y + u * across.y + v * down.y - 0.5);
        }
      }
      out[j * width + i] = sum / (su * sv);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Recognition

/** The recognition input's width for a quad at `height` px: its aspect ratio kept, at least `minWidth`. */
export function cropWidth(quad: Quad, height: number, minWidth = 16): number {
  const along = Math.hypot(quad.across.x, quad.across.y);
  const across = Math.max(Math.hypot(quad.down.x, quad.down.y), 1e-6);
  return Math.max(minWidth, Math.round((height * along) / across));
}

/**
 * Full-width and CJK punctuation the Chinese dictionary holds, as the Latin characters they stand
 * for: on a Latin document the model reaches for them when a glyph is blurred.
 */
const CJK_PUNCTUATION: Readonly<Record<string, string>> = {
  '。': '.',
  '、': ',',
  '【': '[',
  '】': ']',
  '〔': '[',
  '〕': ']',
  '〈': '<',
  '〉': '>',
  '《': '«',
  '》': '»',
  '「': '"',
  '」': '"',
  '『': '"',
  '』': '"',
  '∶': ':',
};

/**
 * Characters Textract could return for a document in its languages (English, German, French,
 * Spanish, Italian, Portuguese): Latin letters with their accents, ASCII and general punctuation,
 * currency signs. Greek and Cyrillic look-alikes (Ο, И) and CJK are left out: the Chinese model
 * emits them on noise and on Latin glyphs it is unsure of.
 */
export function isLatinText(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const ok =
      (c >= 0x20 && c <= 0x7e) ||
      (c >= 0xa0 && c <= 0x24f) ||
      (c >= 0x2010 && c <= 0x205e) ||
      (c >= 0x20a0 && c <= 0x20cf);
    if (!ok) return false;
  }
  return s.length > 0;
}

/**
 * The text of every recognition class: index 0 is CTC's blank, then the dictionary's lines, then
 * the space PP-OCR appends (use_space_char). A class that is no Latin text after NFKC (full-width
 * forms become ASCII) is `undefined`: decoding never emits it.
 */
export function classTable(dictionary: readonly string[]): (string | undefined)[] {
  const latin = (entry: string): string | undefined => {
    const mapped = CJK_PUNCTUATION[entry] ?? entry.normalize('NFKC');
    return isLatinText(mapped) ? mapped : undefined;
  };
  return ['', ...dictionary.map(latin), ' '];
}

export interface DecodedChar {
  text: string;
  /** The time step it was read at. */
  step: number;
  /** Its probability, 0–1. */
  p: number;
  /**
   * The highest probability the space class reached between the previous character and this
   * one: a space the model considered without emitting it.
   */
  space: number;
}

/**
 * Greedy CTC decoding of one sequence (`steps` × `classes` probabilities from `offset`): the most
 * probable class at each step, repeats collapsed, blanks dropped. Classes `table` marks undefined
 * are not candidates: where one wins, the best Latin class or the blank is taken instead, which
 * turns a Cyrillic 'О' into the 'O' the model also saw and CJK noise mostly into nothing.
 */
export function ctcDecode(
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
  table: readonly (string | undefined)[],
): DecodedChar[] {
  const chars: DecodedChar[] = [];
  let previous = 0;
  const spaceClass = table.lastIndexOf(' ');
  let space = 0;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    if (spaceClass > 0) space = Math.max(space, probs[row + spaceClass] as number);
    let best = 0;
    let bestP = probs[row] as number;
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c] as number;
      if (p > bestP && table[c] !== undefined) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      chars.push({ text: table[best] ?? '', step: t, p: bestP, space });
      space = 0;
    }
    previous = best;
  }
  return chars;
}

/** Where a line image has ink: per column, and the rows the text occupies. */
export interface InkProfile {
  /** 1 where a column of the text rows holds an ink pixel. */
  columns: Uint8Array;
  /** First and last (exclusive) row of the text body. */
  top: number;
  bottom: number;
  /** Gray level at or below which a pixel is ink. */
  threshold: number;
}

/** Otsu's threshold of 0–255 values: the level that best splits ink from paper. */
export function otsuThreshold(values: ArrayLike<number>): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(255, Math.max(0, Math.round(values[i] as number)));
    hist[v] = (hist[v] as number) + 1;
  }
  let total = 0;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) {
    total += hist[i] as number;
    sumAll += i * (hist[i] as number);
  }
  let weightB = 0;
  let sumB = 0;
  let best = -1;
  let threshold = 127;
  for (let i = 0; i < 256; i++) {
    const h = hist[i] as number;
    weightB += h;
    if (weightB === 0 || weightB === total) continue;
    sumB += i * h;
    const meanB = sumB / weightB;
    const meanF = (sumAll - sumB) / (total - weightB);
    const between = weightB * (total - weightB) * (meanB - meanF) ** 2;
    if (between > best) {
      best = between;
      threshold = i;
    }
  }
  return threshold;
}

/**
 * The ink of a line crop (`width` × `height`, 0–255): Otsu's threshold, the rows where ink is
 * dense (over 15 % of the busiest row, so a stray descender or the neighbour line's edge does not
 * count as text body), and per column whether those rows hold ink. Rows inked across nearly the
 * whole crop are rules (a table's borders above and below a cell's text), not text: they would
 * fill every column. Italic strokes lean across the gaps between words, so columns are also read
 * along slanted lines (sheared about the text's middle row) and the slant leaving the most blank
 * columns wins.
 */
export function inkProfile(crop: Float32Array, width: number, height: number): InkProfile {
  const threshold = otsuThreshold(crop);
  const rowInk = new Int32Array(height);
  for (let y = 0; y < height; y++) {
    let k = 0;
    for (let x = 0; x < width; x++) if ((crop[y * width + x] as number) <= threshold) k++;
    rowInk[y] = k;
  }
  const isRule = (y: number) => (rowInk[y] as number) > RULE_SHARE * width;
  let busiest = 1;
  for (let y = 0; y < height; y++) if (!isRule(y)) busiest = Math.max(busiest, rowInk[y] as number);
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    if (!isRule(y) && (rowInk[y] as number) > 0.15 * busiest) {
      if (top < 0) top = y;
      bottom = y + 1;
    }
  }
  if (top < 0) return { columns: new Uint8Array(width), top: 0, bottom: 0, threshold };
  const middle = (top + bottom - 1) / 2;
  let best: Uint8Array | undefined;
  let bestBlank = -1;
  for (const shear of ITALIC_SHEARS) {
    const columns = new Uint8Array(width);
    for (let y = top; y < bottom; y++) {
      if (isRule(y)) continue;
      // A stroke leaning right by `shear` px per row above the middle lands on one column.
      const shift = Math.round(shear * (middle - y));
      for (let x = 0; x < width; x++) {
        if ((crop[y * width + x] as number) > threshold) continue;
        const column = x - shift;
        if (column >= 0 && column < width) columns[column] = 1;
      }
    }
    const first = columns.indexOf(1);
    const last = columns.lastIndexOf(1);
    let blank = 0;
    for (let x = first; x <= last; x++) if (!columns[x]) blank++;
    if (blank > bestBlank) {
      bestBlank = blank;
      best = columns;
    }
  }
  return { columns: best ?? new Uint8Array(width), top, bottom, threshold };
}

/** A row with ink in more than this share of its columns is a rule, not text. */
const RULE_SHARE = 0.85;

/** Slants tried for the column profile: upright, then italic angles up to about 17°. */
const ITALIC_SHEARS = [0, 0.1, 0.2, 0.3] as const;

export interface WordOptions {
  /** A blank column run at least this share of the text height is wide enough for a word gap. */
  gapToHeight: number;
  /** …and at least this many times the line's median blank run (its letter spacing). */
  gapToMedian: number;
  /** Two characters further apart than this many median character pitches may be two words. */
  pitch: number;
  /** Two characters between which the space class reached this probability are two words. */
  spaceProbability: number;
  /** A gap this many times the minimum word gap separates words whatever the characters' pitch. */
  strongGap: number;
}

export const DEFAULT_WORDS: WordOptions = {
  gapToHeight: 0.3,
  gapToMedian: 1.5,
  pitch: 1.2,
  spaceProbability: 0.03,
  strongGap: 1.3,
};

export interface WordGap {
  /** Centre column. */
  centre: number;
  /** Its width over the minimum a word gap needs on this line (≥ 1). */
  strength: number;
}

/** Blank column runs wide enough to separate words (inner runs only, not the margins). */
export function wordGaps(ink: InkProfile, options: WordOptions = DEFAULT_WORDS): WordGap[] {
  const runs: { centre: number; width: number }[] = [];
  const { columns } = ink;
  const first = columns.indexOf(1);
  const last = columns.lastIndexOf(1);
  if (first < 0) return [];
  let run = 0;
  for (let x = first; x <= last; x++) {
    if (!columns[x]) run++;
    else {
      if (run > 0) runs.push({ centre: x - run / 2, width: run });
      run = 0;
    }
  }
  const widths = runs.map((r) => r.width).sort((a, b) => a - b);
  const median = widths[Math.floor(widths.length / 2)] ?? 0;
  const minGap = Math.max(2, options.gapToHeight * (ink.bottom - ink.top), options.gapToMedian * median);
  return runs.filter((r) => r.width >= minGap).map((r) => ({ centre: r.centre, strength: r.width / minGap }));
}

export interface CropWord {
  text: string;
  /** Mean character probability, 0–1. */
  p: number;
  /** Extent in crop pixels: columns `left`–`right`, rows `top`–`bottom` (exclusive ends). */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const DIGIT = /^[0-9]$/;
const NUMBER_PUNCTUATION = /^[.,:/-]$/;

/**
 * Whether the boundary before `chars[i]` lies inside a number, a date or a time: between two
 * digits, or beside a separator that has digits on both sides (24.84, 25/12, 09:41, 1,000,
 * 03-3271). Digits are tabular in nearly every font, so a narrow '1' stands in a wide cell whose
 * blank sides look like word gaps: there only the model's own space separates words.
 */
export function insideNumber(chars: readonly { text: string }[], i: number): boolean {
  const t = (k: number) => chars[k]?.text ?? '';
  const digit = (k: number) => DIGIT.test(t(k));
  const separator = (k: number) => NUMBER_PUNCTUATION.test(t(k));
  return (
    (digit(i - 1) && digit(i)) ||
    (digit(i - 1) && separator(i) && digit(i + 1)) ||
    (digit(i - 2) && separator(i - 1) && digit(i))
  );
}

/**
 * A decoded line's words. The model emits spaces between Latin words only sometimes (it was
 * trained mostly on Chinese, which has none), so two characters are also split where the space
 * class came close (`spaceProbability`), or where a word-sized ink gap lies between them and they
 * sit further apart than `pitch` median character pitches (or the gap is `strongGap` wide) —
 * except between two characters of a number. `step` is the width of one time step in crop
 * pixels. Each word's box spans its characters' time steps, then shrinks to the ink inside.
 */
export function splitWords(
  chars: readonly DecodedChar[],
  step: number,
  ink: InkProfile,
  options: WordOptions = DEFAULT_WORDS,
): CropWord[] {
  const gaps = wordGaps(ink, options);
  const deltas: number[] = [];
  for (let i = 1; i < chars.length; i++) {
    const a = chars[i - 1] as DecodedChar;
    const b = chars[i] as DecodedChar;
    if (a.text !== ' ' && b.text !== ' ') deltas.push(b.step - a.step);
  }
  deltas.sort((a, b) => a - b);
  const pitch = (deltas[Math.floor(deltas.length / 2)] ?? 1) * step;
  const groups: DecodedChar[][] = [];
  let current: DecodedChar[] = [];
  for (const [i, c] of chars.entries()) {
    if (c.text.trim() === '') {
      if (current.length > 0) groups.push(current);
      current = [];
      continue;
    }
    const previous = current[current.length - 1];
    if (previous && c.space >= options.spaceProbability) {
      groups.push(current);
      current = [];
    } else if (previous && !insideNumber(chars, i)) {
      const xa = (previous.step + 0.5) * step;
      const xb = (c.step + 0.5) * step;
      const between = gaps.filter((g) => g.centre > xa && g.centre < xb);
      const wide = xb - xa > options.pitch * pitch;
      if (between.some((g) => wide || g.strength >= options.strongGap)) {
        groups.push(current);
        current = [];
      }
    }
    current.push(c);
  }
  if (current.length > 0) groups.push(current);

  const width = ink.columns.length;
  return groups.map((group) => {
    const first = group[0] as DecodedChar;
    const lastChar = group[group.length - 1] as DecodedChar;
    let left = Math.max(0, Math.floor((first.step - 1) * step));
    let right = Math.min(width, Math.ceil((lastChar.step + 2) * step));
    // Shrink to the ink, unless the span has none (then the time steps are all there is).
    let a = left;
    while (a < right && !ink.columns[a]) a++;
    let b = right;
    while (b > a && !ink.columns[b - 1]) b--;
    if (b > a) {
      left = a;
      right = b;
    }
    return {
      text: group.map((c) => c.text).join(''),
      p: group.reduce((sum, c) => sum + c.p, 0) / group.length,
      left,
      right,
      top: ink.bottom > ink.top ? ink.top : 0,
      bottom: ink.bottom > ink.top ? ink.bottom : 0,
    };
  });
}

/**
 * Lines in reading order: grouped into rows where they overlap vertically by more than half the
 * shorter one's height, rows top to bottom, each row left to right.
 */
export function readingOrder<T extends { box: PixelBox }>(lines: readonly T[]): T[] {
  const sorted = [...lines].sort((a, b) => a.box.top + a.box.bottom - (b.box.top + b.box.bottom));
  const rows: { top: number; bottom: number; items: T[] }[] = [];
  for (const line of sorted) {
    const h = line.box.bottom - line.box.top;
    const row = rows.find((r) => {
      const overlap = Math.min(r.bottom, line.box.bottom) - Math.max(r.top, line.box.top);
      return overlap > 0.5 * Math.min(h, r.bottom - r.top);
    });
    if (row) {
      row.items.push(line);
      row.top = Math.min(row.top, line.box.top);
      row.bottom = Math.max(row.bottom, line.box.bottom);
    } else rows.push({ top: line.box.top, bottom: line.box.bottom, items: [line] });
  }
  return rows.sort((a, b) => a.top - b.top).flatMap((r) => r.items.sort((a, b) => a.box.left - b.box.left));
}

// ---------------------------------------------------------------------------------------------
// Currency signs the recognition model cannot read

/** Side of the grid a glyph's ink is resampled to for comparison. */
export const GLYPH_GRID = 16;

/** A glyph's ink over its bounding box on a `GLYPH_GRID`² grid (0–1 ink share a cell), and that box's width / height. */
export interface GlyphShape {
  grid: Float32Array;
  aspect: number;
  /** Bounding box height in source pixels. */
  height: number;
}

/** A reference glyph: what `symbol` looks like in one font. */
export interface GlyphTemplate {
  symbol: string;
  shape: GlyphShape;
}

/**
 * The shape of the ink (values ≤ `threshold`) inside columns `left`–`right` and rows
 * `top`–`bottom` of an image (`width` px wide, 0–255), or undefined when there is none.
 */
export function glyphShape(
  pixels: ArrayLike<number>,
  width: number,
  threshold: number,
  box: PixelBox,
): GlyphShape | undefined {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = -1;
  let y1 = -1;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      if ((pixels[y * width + x] as number) > threshold) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return undefined;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const grid = new Float32Array(GLYPH_GRID * GLYPH_GRID);
  for (let gy = 0; gy < GLYPH_GRID; gy++) {
    const ya = Math.floor(y0 + (gy * h) / GLYPH_GRID);
    const yb = Math.max(ya + 1, Math.ceil(y0 + ((gy + 1) * h) / GLYPH_GRID));
    for (let gx = 0; gx < GLYPH_GRID; gx++) {
      const xa = Math.floor(x0 + (gx * w) / GLYPH_GRID);
      const xb = Math.max(xa + 1, Math.ceil(x0 + ((gx + 1) * w) / GLYPH_GRID));
      let ink = 0;
      for (let y = ya; y < yb; y++)
        for (let x = xa; x < xb; x++) if ((pixels[y * width + x] as number) <= threshold) ink++;
      grid[gy * GLYPH_GRID + gx] = ink / ((yb - ya) * (xb - xa));
    }
  }
  return { grid, aspect: w / h, height: h };
}

/**
 * How alike two glyph shapes are: the Pearson correlation of their grids, less a penalty for
 * differing proportions (a '€' is narrower than a 'C' of the same height in most fonts).
 */
export function glyphSimilarity(a: GlyphShape, b: GlyphShape): number {
  const n = a.grid.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a.grid[i] as number;
    mb += b.grid[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a.grid[i] as number) - ma;
    const db = (b.grid[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  const correlation = saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
  return correlation - 0.5 * Math.abs(Math.log(a.aspect / b.aspect));
}

/** The template symbol most like `shape`, with its similarity. */
export function closestGlyph(
  shape: GlyphShape,
  templates: readonly GlyphTemplate[],
): { symbol: string; score: number } | undefined {
  let best: { symbol: string; score: number } | undefined;
  for (const t of templates) {
    const score = glyphSimilarity(shape, t.shape);
    if (!best || score > best.score) best = { symbol: t.symbol, score };
  }
  return best;
}

/** The currency signs PP-OCRv4's dictionary lacks (€) or its model never emits (£, read as nothing). */
export const CURRENCY_SIGNS = ['€', '£'] as const;

/** What the model reads a currency sign as when it reads it at all. */
const CURRENCY_LOOKALIKES = /^[ECcefFLt]$/;

/**
 * Currency signs put back into a decoded line. The Chinese model has no '€' and never emits
 * '£', so it drops them or reads a letter (`12,50 E`), and the amount loses its currency. Two
 * places are checked, both only beside a digit: ink no decoded character accounts for (a glyph
 * the model passed over), and a lone look-alike letter. Each is compared with `templates`
 * (currency signs and the letters and digits they could be confused with, in several fonts):
 * only when the closest template is a currency sign, at `minScore` or more, does it become one.
 */
export function restoreCurrencySigns(
  chars: readonly DecodedChar[],
  step: number,
  crop: Float32Array,
  width: number,
  height: number,
  ink: InkProfile,
  templates: readonly GlyphTemplate[],
  minScore = 0.65,
): DecodedChar[] {
  const bodyHeight = ink.bottom - ink.top;
  if (bodyHeight <= 0 || templates.length === 0) return [...chars];
  const rows = {
    top: Math.max(0, Math.floor(ink.top - 0.25 * bodyHeight)),
    bottom: Math.min(height, Math.ceil(ink.bottom + 0.25 * bodyHeight)),
  };
  const centre = (c: DecodedChar) => (c.step + 0.5) * step;
  const letters = chars.filter((c) => c.text.trim() !== '');
  const digitNear = (from: number, to: number) =>
    letters.some((c) => DIGIT.test(c.text) && centre(c) >= from && centre(c) <= to);
  const currencyAt = (left: number, right: number): { symbol: string; score: number } | undefined => {
    const shape = glyphShape(crop, width, ink.threshold, { left, right, ...rows });
    // A sign is about as tall as the digits beside it; specks and rules are not.
    if (!shape || shape.height < 0.5 * bodyHeight || shape.aspect < 0.2 || shape.aspect > 1.5)
      return undefined;
    const best = closestGlyph(shape, templates);
    return best && best.score >= minScore && (CURRENCY_SIGNS as readonly string[]).includes(best.symbol)
      ? best
      : undefined;
  };

  // Column runs of ink: glyphs, or a few touching ones.
  const blobs: { left: number; right: number }[] = [];
  for (let x = 0; x < width; x++) {
    if (!ink.columns[x]) continue;
    const left = x;
    while (x < width && ink.columns[x]) x++;
    blobs.push({ left, right: x });
  }
  const out = [...chars];
  const reach = 1.5 * bodyHeight;
  for (const blob of blobs) {
    const explained = letters.some(
      (c) => centre(c) >= blob.left - step / 2 && centre(c) <= blob.right + step / 2,
    );
    if (explained) continue;
    if (!digitNear(blob.right, blob.right + reach) && !digitNear(blob.left - reach, blob.left)) continue;
    const found = currencyAt(blob.left, blob.right);
    if (!found) continue;
    out.push({
      text: found.symbol,
      step: (blob.left + blob.right) / 2 / step - 0.5,
      p: found.score,
      space: 0,
    });
  }
  for (const [i, c] of out.entries()) {
    if (!CURRENCY_LOOKALIKES.test(c.text)) continue;
    // A lone letter: no letter right before or after it within a character's reach.
    const x = centre(c);
    const neighbour = out.some(
      (o) => o !== c && /^\p{L}$/u.test(o.text) && Math.abs(centre(o) - x) < 0.9 * bodyHeight,
    );
    if (neighbour || !digitNear(x - reach, x + reach)) continue;
    const blob = blobs.find((b) => x >= b.left - step / 2 && x <= b.right + step / 2);
    const found = blob && currencyAt(blob.left, blob.right);
    if (found) out[i] = { ...c, text: found.symbol, p: found.score };
  }
  return out.sort((a, b) => a.step - b.step);
}
