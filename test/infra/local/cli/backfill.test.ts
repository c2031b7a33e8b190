import { describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { main } from '../../../../infra/local/cli/main.js';
import { daysBetween } from '../../../../infra/local/cli/commands/backfill.js';

describe('Function: chartflow backfill (help and range)', () => {
  it('says in its help that it transforms the range in one batch, and how to run it day by day', async () => {
    const out: string[] = [];
    const code = await main(['node', 'chartflow', 'backfill', '--help'], {
      config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent' }),
      clock: systemClock,
      processEnv: {},
      out: (t) => out.push(t),
      note: () => undefined,
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/then transform them all in one dbt build/);
    expect(out.join('\n')).toMatch(/--one-by-one\s+run each day end to end, one dbt build per day/);
  });

  it('counts the days of a range inclusively, across a month and a leap day', () => {
    expect(daysBetween('2028-02-27', '2028-03-01')).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(daysBetween('2026-01-01', '2026-12-31')).toHaveLength(365);
  });
});
