/**
 * `npm run bench`: runs the benchmarks listed below, one after the other, each in its own Node
 * process so that one's memory peak (a figure some of them report) is never another's, and ends
 * with one line per benchmark. A benchmark is a file here that runs when executed and exits
 * non-zero when its own targets are missed; add one by listing it.
 *
 *   npm run bench                          every benchmark
 *   npm run bench -- soak                  only the named ones
 *   npm run bench -- soak --docs 500       options after the names go to each named benchmark
 */
import { spawn } from 'node:child_process';

const BENCHMARKS: Record<string, { file: string; what: string }> = {
  ocr: { file: 'ocr.ts', what: 'local OCR fidelity against Textract, and pages/s of both text paths' },
  assemble: { file: 'assemble.ts', what: 'Assemble writing batch input: MB/s and peak RSS up to 1M records' },
  collect: {
    file: 'collect.ts',
    what: 'Collect joining batch output: lines/s and peak RSS up to 1M output lines',
  },
  soak: { file: 'soak.ts', what: '10,000 single-page documents through the whole offline pipeline' },
};

function runOne(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(file, import.meta.url).pathname, ...args], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const names = firstOption < 0 ? argv : argv.slice(0, firstOption);
const args = firstOption < 0 ? [] : argv.slice(firstOption);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(1);
}
if (args.length > 0 && names.length === 0) {
  // Each benchmark has its own options: they go only to benchmarks named on purpose.
  console.error(
    `name the benchmark(s) ${args.join(' ')} is meant for, e.g. npm run bench -- soak ${args.join(' ')}`,
  );
  process.exit(1);
}

const summary: string[] = [];
let failed = 0;
for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
  const bench = BENCHMARKS[name];
  if (!bench) continue;
  console.log(`\n=== bench ${name}: ${bench.what}`);
  const started = performance.now();
  const code = await runOne(bench.file, args);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) failed++;
  summary.push(`  ${name.padEnd(8)} ${code === 0 ? 'ok    ' : `FAILED (exit ${code})`} ${seconds} s`);
}
console.log(`\n=== bench summary\n${summary.join('\n')}`);
process.exitCode = failed > 0 ? 1 : 0;
