/**
 * `switchboard faq …`: ask the FAQ matcher, evaluate it on labelled cases, tune its gate, and
 * convert a knowledge base between JSON and CSV.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  FAQ_LANGS,
  FaqError,
  checkCaseIds,
  createFaqMatcher,
  evaluateCases,
  knowledgeBaseToCsv,
  knowledgeBaseToJson,
  loadCases,
  loadKnowledgeBase,
  tuneGate,
  type FaqGate,
  type FaqLang,
  type FaqReport,
} from '../../features/faq/index.ts';

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Runs an action; a FaqError (bad file, bad input) becomes one line on stderr and exit code 1. */
function handle<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err: unknown) {
      if (!(err instanceof FaqError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
}

function ratio(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
    return n;
  };
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

interface GateOptions {
  minConfidence?: number;
  minMargin?: number;
}

function gateOptions(command: Command): Command {
  return command
    .option('--min-confidence <n>', 'override the gate: lowest confidence of an answer (0..1)', ratio('--min-confidence'))
    .option('--min-margin <n>', 'override the gate: lowest lead over the runner-up (0..1)', ratio('--min-margin'));
}

function gateFrom(opts: GateOptions): Partial<FaqGate> {
  return {
    ...(opts.minConfidence !== undefined ? { minConfidence: opts.minConfidence } : {}),
    ...(opts.minMargin !== undefined ? { minMargin: opts.minMargin } : {}),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The human-readable summary printed by `faq test` and `faq tune`. */
export function formatReport(report: FaqReport, gate: FaqGate): string {
  const r = report;
  return [
    `cases: ${r.total} (${r.inScope} in scope, ${r.outOfScope} out of scope); gate: confidence >= ${gate.minConfidence}, margin >= ${gate.minMargin}`,
    `accuracy: ${pct(r.accuracy)} (${r.correct + r.rejected}/${r.total})`,
    `in scope answered right: ${pct(r.inScopeAccuracy)} (${r.correct}/${r.inScope}); wrong entry: ${r.wrong}; unanswered: ${r.missed}`,
    `out of scope rejected: ${pct(r.outOfScopeRejection)} (${r.rejected}/${r.outOfScope}); answered: ${r.falseAnswers}`,
    `false answers: ${r.wrong + r.falseAnswers} (${pct(r.wrongAnswerRate)} of ${r.correct + r.wrong + r.falseAnswers} answers)`,
    `rejections: ${r.missed + r.rejected} (${r.missed} in scope, ${r.rejected} out of scope)`,
  ].join('\n');
}

function failures(report: FaqReport): string {
  return report.results
    .filter((r) => r.outcome !== 'correct' && r.outcome !== 'rejected')
    .map((r) => `  ${r.outcome.padEnd(12)} ${JSON.stringify(r.case.q)} -> ${r.answer ?? 'none'} (expected ${r.case.expect ?? 'none'}, confidence ${r.confidence})`)
    .join('\n');
}

function reportJson(report: FaqReport, gate: FaqGate) {
  const { results, ...figures } = report;
  return {
    gate,
    ...figures,
    failures: results
      .filter((r) => r.outcome !== 'correct' && r.outcome !== 'rejected')
      .map((r) => ({ q: r.case.q, expect: r.case.expect, answer: r.answer, confidence: r.confidence, outcome: r.outcome })),
  };
}

async function output(text: string, out: string | undefined): Promise<void> {
  if (!out) return write(text);
  try {
    await writeFile(out, text);
  } catch (err: unknown) {
    throw new FaqError('FAQ_READ', `cannot write ${out}: ${String(err)}`, { cause: err });
  }
}

/** Adds `faq ask`, `faq test`, `faq tune`, `faq import` and `faq export` to the program. */
export function register(program: Command): void {
  const faq = program.command('faq').description('FAQ auto-answers: ask, evaluate, tune, import and export a knowledge base');

  gateOptions(
    faq
      .command('ask')
      .description('answer a question from a knowledge base')
      .requiredOption('--kb <file>', 'knowledge base (.json or .csv)')
      .option('--json', 'print {"id", "confidence", "candidates"} as JSON')
      .addOption(new Option('--lang <lang>', "the asker's language (guessed from the question if absent)").choices([...FAQ_LANGS]))
      .argument('<question...>', 'the question'),
  ).action(
    handle(async (words: string[], opts: GateOptions & { kb: string; json?: boolean; lang?: FaqLang }) => {
      const question = words.join(' ');
      const matcher = createFaqMatcher(await loadKnowledgeBase(opts.kb), { gate: gateFrom(opts) });
      const m = matcher.match(question, opts.lang ? { lang: opts.lang } : {});
      if (opts.json) {
        const candidates = m.candidates.map((c) => ({ id: c.entry.id, confidence: c.confidence }));
        return write(JSON.stringify({ id: m.entry?.id ?? null, confidence: m.confidence, candidates }));
      }
      const lines = m.entry
        ? [`${m.entry.id} (confidence ${m.confidence})`, m.entry.answer]
        : [`no confident answer (best confidence ${m.confidence}); the question would go to an operator`];
      if (m.candidates.length > 0) {
        lines.push(m.entry ? 'see also:' : 'did you mean:');
        for (const c of m.candidates) lines.push(`  ${c.entry.id} (${c.confidence}): ${c.entry.questions[0]}`);
      }
      write(lines.join('\n'));
    }),
  );

  gateOptions(
    faq
      .command('test')
      .description('run labelled questions (JSONL {"q", "expect": id|null}) and print accuracy, false answers and rejections')
      .requiredOption('--kb <file>', 'knowledge base (.json or .csv)')
      .requiredOption('--cases <file>', 'JSONL cases')
      .option('--json', 'print the figures and failures as JSON')
      .option('-v, --verbose', 'list every false answer and unanswered question')
      .option('--fail-under <percent>', 'exit 1 when in-scope accuracy or out-of-scope rejection is below this', percent),
  ).action(
    handle(async (opts: GateOptions & { kb: string; cases: string; json?: boolean; verbose?: boolean; failUnder?: number }) => {
      const kb = await loadKnowledgeBase(opts.kb);
      const cases = await loadCases(opts.cases);
      checkCaseIds(cases, kb, opts.cases);
      const matcher = createFaqMatcher(kb, { gate: gateFrom(opts) });
      const report = evaluateCases(matcher, cases);
      if (opts.json) write(JSON.stringify(reportJson(report, matcher.gate), null, 2));
      else {
        write(formatReport(report, matcher.gate));
        const list = failures(report);
        if (opts.verbose && list) write(`failures:\n${list}`);
      }
      if (opts.failUnder !== undefined) {
        const floor = opts.failUnder / 100;
        if (report.inScopeAccuracy < floor || report.outOfScopeRejection < floor) {
          process.stderr.write(`error: below ${opts.failUnder}% (in scope ${pct(report.inScopeAccuracy)}, out of scope rejected ${pct(report.outOfScopeRejection)})\n`);
          process.exitCode = 1;
        }
      }
    }),
  );

  faq
    .command('tune')
    .description('find the gate (minimum confidence and margin) that does best on labelled questions')
    .requiredOption('--kb <file>', 'knowledge base (.json or .csv)')
    .requiredOption('--cases <file>', 'JSONL cases')
    .option('--wrong-cost <n>', 'how many unanswered questions one wrong answer is worth (default 3)', Number)
    .option('--json', 'print the gate and figures as JSON')
    .action(
      handle(async (opts: { kb: string; cases: string; wrongCost?: number; json?: boolean }) => {
        const kb = await loadKnowledgeBase(opts.kb);
        const cases = await loadCases(opts.cases);
        checkCaseIds(cases, kb, opts.cases);
        const { gate, report } = tuneGate(createFaqMatcher(kb), cases, { wrongCost: opts.wrongCost });
        if (opts.json) return write(JSON.stringify(reportJson(report, gate), null, 2));
        write(`best gate: --min-confidence ${gate.minConfidence} --min-margin ${gate.minMargin}\n${formatReport(report, gate)}`);
      }),
    );

  faq
    .command('import')
    .description('convert a CSV knowledge base (columns id, questions, answer, lang, tags) to JSON, validating it')
    .argument('<csv>', 'CSV file: one row per entry, one question per line in the questions cell')
    .option('-o, --out <file>', 'write the JSON here instead of stdout')
    .action(
      handle(async (csv: string, opts: { out?: string }) => {
        const kb = await loadKnowledgeBase(csv);
        await output(knowledgeBaseToJson(kb), opts.out);
        if (opts.out) process.stderr.write(`imported ${kb.entries.length} entries into ${opts.out}\n`);
      }),
    );

  faq
    .command('export')
    .description('convert a knowledge base to CSV for editing in a spreadsheet')
    .requiredOption('--kb <file>', 'knowledge base (.json or .csv)')
    .option('-o, --out <file>', 'write the CSV here instead of stdout')
    .action(
      handle(async (opts: { kb: string; out?: string }) => {
        const kb = await loadKnowledgeBase(opts.kb);
        await output(knowledgeBaseToCsv(kb), opts.out);
        if (opts.out) process.stderr.write(`exported ${kb.entries.length} entries to ${opts.out}\n`);
      }),
    );
}
