/**
 * recordId → partition for a whole run in about 7 bytes a record (a `Map<string, number>` costs
 * ~100): Collect keeps one while it routes each output line of a run to its document's partition.
 *
 * It stores a 32-bit fingerprint of each id, not the id, in open-addressing typed arrays. Two ids
 * with one fingerprint and different partitions are kept apart exactly: the later one goes to a
 * small Map, which `route` consults first. So every id that was set routes to the partition it
 * was last set to; an id never set may still be routed somewhere (a false positive, about one in
 * 2^32 / filled slots) — the partition's join looks the line up by its exact recordId and drops it.
 */

const EMPTY = 0xff;
/** Partitions fit in a byte (0–254); 255 marks an empty slot. */
export const MAX_ROUTES = 255;
const MAX_LOAD = 0.7;

/** FNV-1a over the id's UTF-16 code units, finished with a multiplicative mix. */
export function fingerprint(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export class RecordRouter {
  #prints: Uint32Array;
  #routes: Uint8Array;
  #filled = 0;
  /** Ids whose fingerprint is taken by an id of another partition. */
  readonly #exact = new Map<string, number>();

  /** `expected` sizes the table up front (it grows past it if needed). */
  constructor(expected = 0) {
    const capacity = Math.max(16, Math.ceil(expected / MAX_LOAD));
    this.#prints = new Uint32Array(capacity);
    this.#routes = new Uint8Array(capacity).fill(EMPTY);
  }

  /** Routes `id` to `partition` (0–254), replacing an earlier route of the same id. */
  set(id: string, partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= MAX_ROUTES)
      throw new RangeError(`partition ${partition} outside 0–${MAX_ROUTES - 1}`);
    if (this.#exact.has(id)) {
      this.#exact.set(id, partition);
      return;
    }
    if (this.#filled + 1 > this.#prints.length * MAX_LOAD) this.#grow();
    const print = fingerprint(id);
    const slot = this.#find(print);
    const route = this.#routes[slot];
    if (route === EMPTY) {
      this.#prints[slot] = print;
      this.#routes[slot] = partition;
      this.#filled++;
    } else if (route !== partition) {
      // The same fingerprint already routes elsewhere (another id, or this id's earlier route).
      this.#exact.set(id, partition);
    }
  }

  /** The partition of an id that was set; for any other id, undefined or some partition. */
  route(id: string): number | undefined {
    const exact = this.#exact.get(id);
    if (exact !== undefined) return exact;
    const route = this.#routes[this.#find(fingerprint(id))];
    return route === EMPTY ? undefined : route;
  }

  /** The slot holding the fingerprint, or the empty slot where it would go (linear probing). */
  #find(print: number): number {
    const capacity = this.#prints.length;
    let slot = print % capacity;
    for (;;) {
      if (this.#routes[slot] === EMPTY || this.#prints[slot] === print) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
  }

  #grow(): void {
    const prints = this.#prints;
    const routes = this.#routes;
    this.#prints = new Uint32Array(prints.length * 2);
    this.#routes = new Uint8Array(prints.length * 2).fill(EMPTY);
    for (let i = 0; i < prints.length; i++) {
      const route = routes[i] as number;
      if (route === EMPTY) continue;
      const slot = this.#find(prints[i] as number);
      this.#prints[slot] = prints[i] as number;
      this.#routes[slot] = route;
    }
  }
}
