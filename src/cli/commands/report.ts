import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FsStore } from '../../adapters/local/fs-store.ts';
import { keys } from '../../core/keys.ts';
import { formatUsd } from '../../core/pricing.ts';
import {
  formatDuration,
  REPORT_VERSION,
  type RunReportBody,
  renderReportHtml,
  reportHtmlKey,
} from '../../core/report-html.ts';
import { ConfigError } from '../../errors.ts';
import { report as reportTask } from '../../tasks/batch.ts';
import { loadConfig } from '../config-file.ts';
import { EXIT, type Io } from '../io.ts';
import { createLocalEnvironment } from '../local-env.ts';

/** Opens a file with the desktop's viewer; resolves false when there is none to run. */
export type Opener = (path: string) => Promise<boolean>;

/** `xdg-open` (Linux, BSD) or `open` (macOS), detached: the command does not wait for the browser. */
export const systemOpener: Opener = (path) =>
  new Promise((done) => {
    const command = process.platform === 'darwin' ? 'open' : 'xdg-open';
    const child = spawn(command, [path], { detached: true, stdio: 'ignore' });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });

const n = (v: number) => v.toLocaleString('en-US');

async function readReport(store: FsStore, runId: string): Promise<RunReportBody | undefined> {
  if (!(await store.head(keys.report(runId)))) return undefined;
  return JSON.parse(await store.getText(keys.report(runId))) as RunReportBody;
}

/** The run whose report is newest (by its start, then its id: run ids begin with their time). */
async function latestRunId(store: FsStore): Promise<string | undefined> {
  let best: { runId: string; at: string } | undefined;
  for await (const o of store.list('reports/')) {
    const m = /^reports\/([^/]+)\.json$/.exec(o.key);
    if (!m?.[1]) continue;
    let at = '';
    try {
      const r = JSON.parse(await store.getText(o.key)) as Partial<RunReportBody>;
      at = r.startedAt ?? r.createdAt ?? '';
    } catch {
      // A torn report still names a run; it sorts by its id alone.
    }
    if (!best || at > best.at || (at === best.at && m[1] > best.runId)) best = { runId: m[1], at };
  }
  return best?.runId;
}

/**
 * A report written before reports carried costs, pages and durations is written again by the Report
 * task, its clock held at the original report time so that the durations stay what they were.
 */
async function upgrade(
  workdir: string,
  runId: string,
  old: Partial<RunReportBody>,
  config?: string,
): Promise<RunReportBody> {
  const { config: resolved } = await loadConfig(config !== undefined ? { config } : {});
  const env = await createLocalEnvironment({ workdir: resolve(workdir), config: resolved });
  try {
    const at = old.createdAt ? new Date(old.createdAt) : new Date();
    await reportTask({ runId }, { ...env.ctx, clock: { now: () => at } });
  } finally {
    await env.close();
  }
  const body = await readReport(env.store, runId);
  if (!body) throw new ConfigError(`the report of run ${runId} could not be written again`);
  return body;
}

function printReport(r: RunReportBody, htmlPath: string, io: Io): void {
  const c = r.cost;
  const lines: string[] = [];
  lines.push(
    `run ${r.runId} · ${r.modelId} · started ${r.startedAt} · ${formatDuration(r.durationMs)} to the report`,
  );
  lines.push(
    `documents ${n(r.documents)}: ${n(r.results)} results, ${n(r.rejected)} rejected${r.pending ? `, ${n(r.pending)} WITHOUT OUTCOME` : ''}` +
      ` · ${n(r.attempts)} attempt(s), ${n(r.redriven)} re-driven${r.errorRecords ? `, ${n(r.errorRecords)} model errors` : ''}${r.deferred ? ` · ${n(r.deferred)} records deferred` : ''}`,
  );
  lines.push(
    `tokens in ${n(r.tokens.input)}, out ${n(r.tokens.output)} · ${formatUsd(c.batch)} at batch price, ${formatUsd(c.onDemand)} on demand, ${formatUsd(c.billed)} as billed` +
      ` (${c.model ? c.model.name : 'model not in the price table'}; prices of ${c.priceDate})`,
  );
  if (c.examples.length)
    lines.push(
      `  the same tokens on ${c.examples.map((e) => `${e.name} ${formatUsd(e.batch)} batch / ${formatUsd(e.onDemand)} on demand`).join(', ')}`,
    );
  const p = r.pages;
  lines.push(
    `pages ${n(p.pages)}: ${n(p.textLayerPages)} from text layers, ${n(p.textractPages)} by Textract (${formatUsd(c.textract)}); text layers avoided ${formatUsd(c.textractAvoided)} of Textract`,
  );
  for (const t of r.byType) {
    if (!t.fields.length) continue;
    lines.push(
      `validation failures, ${t.type} (${n(t.documents)} documents): ${t.fields
        .map((f) => `${f.field} ${n(f.documents)} (${(f.rate * 100).toFixed(1)}%)`)
        .join(', ')}`,
    );
  }
  if (r.rejectedDocuments.length) {
    lines.push('rejected:');
    for (const d of r.rejectedDocuments)
      lines.push(`  ${d.source}  ${d.reasons.map((x) => `${x.code}: ${x.message}`).join('; ')}`);
    if (r.rejected > r.rejectedDocuments.length)
      lines.push(`  … ${n(r.rejected - r.rejectedDocuments.length)} more (docbatch status ${r.runId})`);
  }
  lines.push('attempts and jobs:');
  for (const a of r.perAttempt)
    lines.push(
      `  attempt ${a.attempt} planned ${a.plannedAt}, ${formatDuration(a.durationMs)}: ${n(a.records)} records in ${n(a.jobs)} job(s)` +
        (a.collected
          ? ` → ${n(a.results)} results, ${n(a.rejected)} rejected, ${n(a.redriven)} re-driven`
          : ' → not collected'),
    );
  for (const j of r.jobs)
    lines.push(
      `  job ${j.job}${j.attempt > 1 ? ` (attempt ${j.attempt})` : ''}: ${[j.mode, j.jobId, j.status].filter(Boolean).join(' ')} · ${n(j.records)} records${j.tokens ? ` · tokens ${n(j.tokens.input)} / ${n(j.tokens.output)}` : ''}${j.message ? ` · ${j.message}` : ''}`,
    );
  lines.push(`html: ${htmlPath}`);
  io.out(`${lines.join('\n')}\n`);
}

/** `docbatch report`: a run's report in the terminal, and its HTML page written (and opened). */
export function registerReport(program: Command, io: Io, opener: Opener = systemOpener): void {
  program
    .command('report')
    .description('Print a run’s report (the latest run by default) and write its HTML page; --open shows it.')
    .argument('[runId]', 'the run (default: the latest reported run of the work directory)')
    .option(
      '--workdir <dir>',
      'work directory of `docbatch run`; the local bucket is <dir>/bucket',
      '.docbatch',
    )
    .option('--config <file>', 'configuration (prices) used when an older report is written again')
    .option('--open', 'open the HTML page with the desktop’s viewer (xdg-open / open)')
    .option('--json', 'print reports/<runId>.json (and where the HTML is) instead of the summary')
    .addHelpText(
      'after',
      `
The report is what the batch run's Report task wrote: outcomes, rejected documents and their reasons,
per-field validation failure rates, tokens, the cost at batch and at on-demand price (dated price
table, overridable under "prices" in docbatch.config.json), Textract pages and the cost the text-layer
shortcut avoided, durations, attempts and jobs. The HTML page (reports/<runId>.html) is self-contained:
no script, font or network request. A report written by an older docbatch is written again first.

Examples:
  $ docbatch report
  $ docbatch report 20261123T043827Z-00b6 --open
  $ docbatch report --workdir /tmp/sroie --json | jq .cost

Exit codes:
  0  the report was printed
  1  no work directory, no such run, or the run has no report yet (in progress or interrupted)`,
    )
    .action(
      async (
        runIdArg: string | undefined,
        opts: { workdir: string; config?: string; open?: boolean; json?: boolean },
      ) => {
        const root = join(resolve(opts.workdir), 'bucket');
        const isDir = await stat(root).then(
          (s) => s.isDirectory(),
          () => false,
        );
        if (!isDir)
          throw new ConfigError(
            `no work directory at "${opts.workdir}" (looked for ${root}). Fix: run \`docbatch run <files>\` first, or pass --workdir DIR for the one you used.`,
          );
        const store = new FsStore(root);
        const runId = runIdArg ?? (await latestRunId(store));
        if (!runId)
          throw new ConfigError(
            `no report in "${opts.workdir}" yet. Fix: run \`docbatch run <files> --workdir ${opts.workdir}\`.`,
          );
        let body = await readReport(store, runId);
        if (!body) {
          const planned = await store.head(keys.plan(runId, 1));
          throw new ConfigError(
            planned
              ? `run ${runId} has no report yet: it is in progress or was interrupted (\`docbatch run\` finishes an interrupted run).`
              : `no run ${runId} in "${opts.workdir}". Fix: \`docbatch status --workdir ${opts.workdir}\` lists the runs.`,
          );
        }
        if (body.reportVersion !== REPORT_VERSION) {
          io.err(`report of ${runId} was written by an older docbatch: writing it again\n`);
          body = await upgrade(opts.workdir, runId, body, opts.config);
        }
        // Rendered again from the JSON, so a page lost or made by an older renderer is brought up to date.
        await store.put(reportHtmlKey(runId), renderReportHtml(body), {
          contentType: 'text/html; charset=utf-8',
        });
        const htmlPath = join(opts.workdir, 'bucket', reportHtmlKey(runId));
        if (opts.json) io.out(`${JSON.stringify({ ...body, html: htmlPath }, null, 2)}\n`);
        else printReport(body, htmlPath, io);
        if (opts.open) {
          const opened = await opener(resolve(htmlPath));
          if (!opened) io.err(`no viewer to open it with (xdg-open / open); the page is ${htmlPath}\n`);
        }
        process.exitCode = EXIT.ok;
      },
    );
}
