// The "## dbt" section of docs/mutation.md, written by `npm run mutation:dbt` (bin/dbt-mutation.ts):
// the table of mutations and the caught/total figure. Only that section is ever rewritten.
import type { DbtMutation } from './dbt-mutations.js';

export interface MutationResult {
  readonly mutation: DbtMutation;
  /** caught: a unit test (or the merge scenario) failed; survived: all passed; broken: the mutated model did not run. */
  readonly status: 'caught' | 'survived' | 'broken';
  /** The unit tests that failed (caught) or errored (broken), or `merge scenario: <what it found>`. */
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
\`dbt test --select test_type:unit\` on DuckDB and records whether a unit test failed. The list
covers every condition of the chart-run gap rule and the run columns (\`fct_chart_entries\`), the
incremental merge of \`fct_chart_entries\` (its delete+insert key, and the days it recomputes, keeps
and writes again), the SCD2 versions of \`dim_artists\`, and the gap rule as \`fct_chart_runs\`
applies it (\`is_ongoing\`): each comparison, each \`coalesce\`, each window's partition, order
and frame.

A dbt unit test compares the rows a model selects; it never runs the materialization, so it
cannot see the delete+insert key (\`unique_key\`). For the mutations of that key, the runner also
runs the merge scenario: it builds \`fct_chart_entries\` from a stage holding one day of two charts
(two tracks on one, one on the other), then again after a replay of the first chart's day in which
one track is gone, and checks that the fact holds exactly the replayed chart's new rows and the
other chart's untouched row.

The runner refuses a mutation whose snippet is not found exactly once in its model; it exits 1
when a mutation survives that the list does not give as equivalent (with the reason, in the table),
when one listed as equivalent is caught, or when a mutated model does not run.
\`test/dbt/mutation-list.test.ts\` checks the snippets without running dbt.`;

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const resultCell = ({ mutation, status }: MutationResult): string => {
  if (status === 'caught') return 'caught';
  if (status === 'broken') return 'broken (the mutated model does not run)';
  return mutation.equivalent ? 'survived: equivalent' : 'survived';
};

const evidenceCell = ({ mutation, status, killedBy }: MutationResult): string => {
  if (status === 'survived') return mutation.equivalent ?? 'no unit test fails';
  return killedBy.map((name) => (name.startsWith('merge scenario') ? name : `\`${name}\``)).join(', ');
};

/** The figure: how many mutations were caught, and what became of the others. */
export const figureOf = (results: readonly MutationResult[]): string => {
  const count = (test: (result: MutationResult) => boolean): number => results.filter(test).length;
  const caught = count((r) => r.status === 'caught');
  const byScenario = count(
    (r) => r.status === 'caught' && r.killedBy.some((k) => k.startsWith('merge scenario')),
  );
  const equivalent = count((r) => r.status === 'survived' && r.mutation.equivalent !== undefined);
  const unexplained = results.length - caught - equivalent;
  return (
    `**${caught}/${results.length} caught** (${caught - byScenario} by the dbt unit tests, ${byScenario} by the ` +
    `merge scenario); of the ${results.length - caught} others, ${equivalent} equivalent, ${unexplained} unexplained.`
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
    '| area | mutation | what it changes | result | what failed, or why it survives |',
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
