// The "## dbt" section of docs/mutation.md, written by `npm run mutation:dbt` (bin/dbt-mutation.ts):
// the table of mutations and the caught/total figure. Only that section is ever rewritten.
import type { DbtMutation } from './dbt-mutations.js';

export interface MutationResult {
  readonly mutation: DbtMutation;
  /** caught: a unit test failed; survived: they all passed; broken: the mutated model did not run. */
  readonly status: 'caught' | 'survived' | 'broken';
  /** The unit tests that failed (caught) or errored (broken). */
  readonly killedBy: readonly string[];
}

const heading = '## dbt';

const intro = `# Mutation testing

How well the tests hold the code: each mutation is a small change to the code (a comparison
turned, a condition dropped), and a mutation is caught when some test fails because of it. A
mutation that survives shows logic no test holds, unless it is equivalent (it changes no result)
or is held by a test of another kind, as its row says.
`;

const method = `Run with \`npm run mutation:dbt\` (\`bin/dbt-mutation.ts\`; the list is \`bin/dbt-mutations.ts\`).
Each mutation is one edit of one model, in a copy of the dbt project; the runner then runs
\`dbt test --select test_type:unit\` on DuckDB and records whether a unit test failed. It covers every
condition of the chart-run gap rule and the run columns (\`fct_chart_entries\`), the incremental merge
of \`fct_chart_entries\` (its delete+insert key, the days it recomputes, keeps and writes again), the
SCD2 versions of \`dim_artists\`, and the gap rule as \`fct_chart_runs\` applies it (\`is_ongoing\`). The
runner refuses a mutation whose snippet is not found exactly once in its model, and exits 1 when a
mutation survives that the list does not explain; \`test/dbt/mutation-list.test.ts\` checks the
snippets without running dbt.`;

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const resultCell = ({ mutation, status }: MutationResult): string => {
  if (status === 'caught') return 'caught';
  if (status === 'broken') return 'broken (the mutated model does not run)';
  return mutation.survives ? `survived: ${mutation.survives.kind}` : 'survived';
};

const evidenceCell = ({ mutation, status, killedBy }: MutationResult): string => {
  if (status === 'survived') return mutation.survives?.reason ?? 'no unit test fails';
  return killedBy.map((name) => `\`${name}\``).join(', ');
};

/** The figure: how many mutations were caught, and what became of the others. */
export const figureOf = (results: readonly MutationResult[]): string => {
  const count = (test: (result: MutationResult) => boolean): number => results.filter(test).length;
  const caught = count((r) => r.status === 'caught');
  const equivalent = count((r) => r.status === 'survived' && r.mutation.survives?.kind === 'equivalent');
  const beyond = count((r) => r.status === 'survived' && r.mutation.survives?.kind === 'beyond unit tests');
  const unexplained = count(
    (r) => r.status !== 'caught' && !(r.status === 'survived' && r.mutation.survives),
  );
  return (
    `**${caught}/${results.length} caught** by the dbt unit tests; of the ${results.length - caught} others, ` +
    `${equivalent} equivalent, ${beyond} beyond unit tests (held by the test named in its row), ` +
    `${unexplained} unexplained.`
  );
};

/** The whole "## dbt" section, from its heading, in the Markdown prettier gives. */
export const dbtSection = (results: readonly MutationResult[]): string => {
  const rows = results.map(
    (result) =>
      `| ${cell(result.mutation.area)} | \`${result.mutation.id}\` | ${cell(result.mutation.change)} | ` +
      `${resultCell(result)} | ${cell(evidenceCell(result))} |`,
  );
  return [
    heading,
    '',
    method,
    '',
    figureOf(results),
    '',
    '| area | mutation | what it changes | result | the unit tests that failed, or why it survives |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
};

/**
 * docs/mutation.md with its "## dbt" section replaced by `section` (up to the next "## " heading),
 * or the section added at the end when there is none, or a new file with a short intro.
 */
export const replaceDbtSection = (current: string | undefined, section: string): string => {
  const body = section.endsWith('\n') ? section : `${section}\n`;
  if (current === undefined) return `${intro}\n${body}`;
  const lines = current.split('\n');
  const start = lines.findIndex((line) => line.trimEnd() === heading);
  if (start === -1) return `${current.trimEnd()}\n\n${body}`;
  const after = lines.findIndex((line, index) => index > start && /^## /.test(line));
  const before = lines.slice(0, start).join('\n');
  const rest = after === -1 ? '' : `\n${lines.slice(after).join('\n')}`;
  return `${before}${before === '' ? '' : '\n'}${body}${rest}`;
};
