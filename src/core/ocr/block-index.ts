/**
 * A tolerant index over Textract blocks: lookups by Id, relationships resolved with missing ids
 * skipped, page numbers inferred for blocks that lack them, and boxes normalised so that text
 * always reads left to right, top to bottom (pages scanned sideways or upside down included).
 *
 * Real responses are JSON from outside: every field is checked before use rather than trusted
 * to match the declared types.
 */
import type { Block } from './textract.ts';

/** A rectangle as page ratios from the top-left corner (after orientation is normalised). */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export function unionBoxes(boxes: Iterable<Box | undefined>): Box | undefined {
  let out: Box | undefined;
  for (const b of boxes) {
    if (!b) continue;
    out = out
      ? {
          left: Math.min(out.left, b.left),
          top: Math.min(out.top, b.top),
          right: Math.max(out.right, b.right),
          bottom: Math.max(out.bottom, b.bottom),
        }
      : { ...b };
  }
  return out;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The block's Text, trimmed; undefined when absent or blank. */
export function textOf(b: Block): string | undefined {
  const t = str(b.Text)?.trim();
  return t ? t : undefined;
}

export function typeOf(b: Block): string {
  return str(b.BlockType) ?? '';
}

export function entityTypes(b: Block): string[] {
  return Array.isArray(b.EntityTypes) ? b.EntityTypes.filter((e): e is string => typeof e === 'string') : [];
}

/** Ids of one relationship type (all of them when `type` is omitted), in the order given. */
export function relatedIds(b: Block, type?: string): string[] {
  if (!Array.isArray(b.Relationships)) return [];
  const out: string[] = [];
  for (const rel of b.Relationships as unknown[]) {
    if (!isObject(rel) || !Array.isArray(rel['Ids'])) continue;
    if (type !== undefined && rel['Type'] !== type) continue;
    for (const id of rel['Ids'] as unknown[]) if (typeof id === 'string') out.push(id);
  }
  return out;
}

type Rotation = 0 | 90 | 180 | 270;

// Maps a point of a page whose text runs at `rotation` onto an upright page.
function rotatePoint(x: number, y: number, rotation: Rotation): [number, number] {
  switch (rotation) {
    case 90:
      return [y, 1 - x];
    case 180:
      return [1 - x, 1 - y];
    case 270:
      return [1 - y, x];
    default:
      return [x, y];
  }
}

function rawBox(b: Block): Box | undefined {
  const g: unknown = b.Geometry;
  const bb = isObject(g) && isObject(g['BoundingBox']) ? g['BoundingBox'] : undefined;
  const left = num(bb?.['Left']);
  const top = num(bb?.['Top']);
  const width = num(bb?.['Width']);
  const height = num(bb?.['Height']);
  if (left !== undefined && top !== undefined && width !== undefined && height !== undefined) {
    return { left, top, right: left + Math.max(width, 0), bottom: top + Math.max(height, 0) };
  }
  // Some producers send only the polygon.
  const points = polygon(b);
  if (points.length === 0) return undefined;
  return unionBoxes(points.map(([x, y]) => ({ left: x, top: y, right: x, bottom: y })));
}

function polygon(b: Block): [number, number][] {
  const g: unknown = b.Geometry;
  const points = isObject(g) ? g['Polygon'] : undefined;
  if (!Array.isArray(points)) return [];
  const out: [number, number][] = [];
  for (const p of points as unknown[]) {
    if (!isObject(p)) continue;
    const x = num(p['X']);
    const y = num(p['Y']);
    if (x !== undefined && y !== undefined) out.push([x, y]);
  }
  return out;
}

function validPage(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n >= 1 ? n : undefined;
}

export class BlockIndex {
  /** Distinct object blocks in response order (a repeated Id keeps its first occurrence). */
  readonly blocks: Block[] = [];
  readonly byId = new Map<string, Block>();
  /** Position of each block in the response: the fallback reading order. */
  readonly order = new Map<Block, number>();
  /** WORD → the LINE that lists it as a child (first one wins). */
  readonly lineOfWord = new Map<Block, Block>();
  private readonly parent = new Map<Block, Block>();
  private readonly pages = new Map<Block, number>();
  private readonly rotations = new Map<number, Rotation>();
  private readonly boxes = new Map<Block, Box | undefined>();

  constructor(input: readonly unknown[]) {
    for (const b of input) {
      if (!isObject(b)) continue;
      const block = b as Block;
      const id = str(block.Id);
      if (id !== undefined) {
        if (this.byId.has(id)) continue;
        this.byId.set(id, block);
      }
      this.order.set(block, this.blocks.length);
      this.blocks.push(block);
    }
    for (const b of this.blocks) {
      const isLine = typeOf(b) === 'LINE';
      for (const child of this.related(b, 'CHILD')) {
        if (!this.parent.has(child)) this.parent.set(child, b);
        if (isLine && typeOf(child) === 'WORD' && !this.lineOfWord.has(child)) this.lineOfWord.set(child, b);
      }
    }
    this.detectRotations();
  }

  /** Blocks of one relationship type, unknown ids skipped, each block once. */
  related(b: Block, type?: string): Block[] {
    const out: Block[] = [];
    const seen = new Set<Block>();
    for (const id of relatedIds(b, type)) {
      const r = this.byId.get(id);
      if (r && r !== b && !seen.has(r)) {
        seen.add(r);
        out.push(r);
      }
    }
    return out;
  }

  /** The block's page: its own `Page`, else its parent's (a WORD without Page sits on its LINE's), else 1. */
  page(b: Block): number {
    const cached = this.pages.get(b);
    if (cached !== undefined) return cached;
    let page: number | undefined;
    let cursor: Block | undefined = b;
    // Bounded walk up the CHILD tree (PAGE → LAYOUT → LINE → WORD is four deep) guards against cycles.
    for (let depth = 0; cursor && depth < 6 && page === undefined; depth++) {
      page = validPage(cursor.Page);
      cursor = this.parent.get(cursor);
    }
    const result = page ?? 1;
    this.pages.set(b, result);
    return result;
  }

  /** The block's box on its upright page, or undefined when it has no usable geometry. */
  box(b: Block): Box | undefined {
    if (this.boxes.has(b)) return this.boxes.get(b);
    const raw = rawBox(b);
    let out = raw;
    const rotation = this.rotations.get(this.page(b)) ?? 0;
    if (raw && rotation !== 0) {
      const [x1, y1] = rotatePoint(raw.left, raw.top, rotation);
      const [x2, y2] = rotatePoint(raw.right, raw.bottom, rotation);
      out = {
        left: Math.min(x1, x2),
        top: Math.min(y1, y2),
        right: Math.max(x1, x2),
        bottom: Math.max(y1, y2),
      };
    }
    this.boxes.set(b, out);
    return out;
  }

  /**
   * The dominant text direction per page, from LINE polygons: Textract lists a line's corners
   * starting at the text's own top-left, so the first edge points along the reading direction
   * even when the scan is sideways or upside down, while the BoundingBox does not tell.
   */
  private detectRotations(): void {
    const votes = new Map<number, number[]>();
    for (const b of this.blocks) {
      if (typeOf(b) !== 'LINE') continue;
      const p = polygon(b);
      const a = p[0];
      const c = p[1];
      if (!a || !c) continue;
      const dx = c[0] - a[0];
      const dy = c[1] - a[1];
      if (dx === 0 && dy === 0) continue;
      const bucket = Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? 0 : 2) : dy > 0 ? 1 : 3;
      const page = this.page(b);
      let v = votes.get(page);
      if (!v) {
        v = [0, 0, 0, 0];
        votes.set(page, v);
      }
      v[bucket] = (v[bucket] ?? 0) + (textOf(b)?.length ?? 1);
    }
    for (const [page, v] of votes) {
      let best = 0;
      for (let i = 1; i < 4; i++) if ((v[i] ?? 0) > (v[best] ?? 0)) best = i;
      if (best !== 0) this.rotations.set(page, (best * 90) as Rotation);
    }
  }
}
