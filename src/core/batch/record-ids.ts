/**
 * recordId → ordinal for one partition, read from a line's bytes without making a string of the
 * recordId. docbatch's recordIds are eleven ASCII letters or digits (`recordId` in core/ids.ts): those live in
 * an open-addressing table of typed arrays (eleven bytes and an ordinal a slot), which the young
 * generation never copies. Any other recordId (a hand-edited index) goes to a Map.
 *
 * A Map<string, number>, as before, took a string per output line (made to look it up) and a string
 * and a Map entry per index line, promoted with the partition's index. With this table and lines
 * read as bytes (`LeadingRecordIds`, `IndexLineReader`), one thread deciding 500,000 lines of the
 * benchmark's partitions took 3.8–4.1 s of CPU instead of 4.3–4.5 s.
 */

export const RECORD_ID_LENGTH = 11;

/** Whether byte or UTF-16 unit `c` is an ASCII letter or digit. */
export function isIdUnit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export class RecordIds {
  /** Per slot: the ordinal, −1 for an empty slot. */
  #slots: Int32Array;
  /** Per slot: its recordId's bytes. */
  #keys: Uint8Array;
  #mask: number;
  #size = 0;
  readonly #others = new Map<string, number>();
  readonly #scratch = new Uint8Array(RECORD_ID_LENGTH);

  /** `capacity`: the records expected; a partition holds about 10,000 (RECORDS_PER_PARTITION). */
  constructor(capacity = 16384) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Int32Array(slots).fill(-1);
    this.#keys = new Uint8Array(slots * RECORD_ID_LENGTH);
    this.#mask = slots - 1;
  }

  /** Places a recordId at an ordinal; a recordId set before moves to this one. */
  set(id: string, ordinal: number): void {
    if (isCanonical(id)) this.setBytes(this.#spelled(id), 0, ordinal);
    else this.#others.set(id, ordinal);
  }

  /** `set` for the recordId at `bytes[at…at+11)`, eleven ASCII letters or digits. */
  setBytes(bytes: Uint8Array, at: number, ordinal: number): void {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    const slot = this.#slot(bytes, at);
    if ((this.#slots[slot] as number) < 0) {
      // Copied byte by byte: a subarray to copy from would be an object per record.
      const keys = this.#keys;
      const k = slot * RECORD_ID_LENGTH;
      for (let i = 0; i < RECORD_ID_LENGTH; i++) keys[k + i] = bytes[at + i] as number;
      this.#size++;
    }
    this.#slots[slot] = ordinal;
  }

  /** The ordinal of a recordId, −1 for none. */
  get(id: string): number {
    if (isCanonical(id)) return this.getBytes(this.#spelled(id), 0);
    return this.#others.get(id) ?? -1;
  }

  /** `get` for the recordId at `bytes[at…at+11)`, eleven ASCII letters or digits. */
  getBytes(bytes: Uint8Array, at: number): number {
    return this.#slots[this.#slot(bytes, at)] as number;
  }

  /** The slot holding the recordId at `bytes[at…]`, or the empty slot where it would go. */
  #slot(bytes: Uint8Array, at: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    let slot = hash(bytes, at) & mask;
    for (;;) {
      if ((this.#slots[slot] as number) < 0) return slot;
      const k = slot * RECORD_ID_LENGTH;
      let i = 0;
      while (i < RECORD_ID_LENGTH && keys[k + i] === bytes[at + i]) i++;
      if (i === RECORD_ID_LENGTH) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** A canonical recordId's bytes, in a buffer reused from call to call. */
  #spelled(id: string): Uint8Array {
    const bytes = this.#scratch;
    for (let i = 0; i < RECORD_ID_LENGTH; i++) bytes[i] = id.charCodeAt(i);
    return bytes;
  }

  #grow(): void {
    const oldSlots = this.#slots;
    const oldKeys = this.#keys;
    const slots = oldSlots.length * 2;
    this.#slots = new Int32Array(slots).fill(-1);
    this.#keys = new Uint8Array(slots * RECORD_ID_LENGTH);
    this.#mask = slots - 1;
    // Each recordId is in the old table once, so `#slot` finds it an empty slot in the new one.
    for (let s = 0; s < oldSlots.length; s++) {
      const ordinal = oldSlots[s] as number;
      if (ordinal < 0) continue;
      const from = s * RECORD_ID_LENGTH;
      const slot = this.#slot(oldKeys, from);
      this.#keys.set(oldKeys.subarray(from, from + RECORD_ID_LENGTH), slot * RECORD_ID_LENGTH);
      this.#slots[slot] = ordinal;
    }
  }
}

function isCanonical(id: string): boolean {
  if (id.length !== RECORD_ID_LENGTH) return false;
  for (let i = 0; i < RECORD_ID_LENGTH; i++) if (!isIdUnit(id.charCodeAt(i))) return false;
  return true;
}

// FNV-1a over the eleven bytes, then a final mix: recordIds are random, but a table of a power of
// two slots takes the low bits, which FNV alone leaves poorly mixed.
function hash(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < RECORD_ID_LENGTH; i++) h = Math.imul(h ^ (bytes[at + i] as number), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  return h ^ (h >>> 16);
}
