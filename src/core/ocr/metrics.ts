/** Case-, width- and edge-punctuation-insensitive form of a word, for comparing OCR engines. */
export function normalizeWord(word: string): string {
  return word
    .normalize('NFKC')
    .toLowerCase()
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

/** Share of `expected` words (as a multiset) found in `actual`: 1 when nothing was expected. */
export function wordRecall(expected: readonly string[], actual: readonly string[]): number {
  const bag = new Map<string, number>();
  for (const w of actual.map(normalizeWord).filter(Boolean)) bag.set(w, (bag.get(w) ?? 0) + 1);
  const wanted = expected.map(normalizeWord).filter(Boolean);
  let hits = 0;
  for (const w of wanted) {
    const n = bag.get(w) ?? 0;
    if (n > 0) {
      hits += 1;
      bag.set(w, n - 1);
    }
  }
  return wanted.length === 0 ? 1 : hits / wanted.length;
}
