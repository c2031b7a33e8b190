import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../infra/local/cli/main.js';
import { cliIn } from '../support/cli-context.js';
import { chromiumAvailable, launchChromium, openOffline } from '../support/browser.js';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { RunRecords } from '../../shared/lake/run-records.js';

/**
 * `chartflow report` opened as a reader opens it: the file in headless Chromium (Debian's), from
 * file:// with the network off. A sandbox backfill of two weeks gives it data to show; a home with
 * nothing gives it none.
 */
const cli = cliIn;

const from = '2026-10-01';
const to = '2026-10-14';
const sections = ['chart-now', 'trajectories', 'longevity', 'features', 'new-releases', 'data-health'];

const browserHere = chromiumAvailable();

describe.skipIf(!browserHere)('Command: chartflow report, in a browser', () => {
  let root: string;
  let browser: Browser;
  const out: string[] = [];
  const report = () => path.join(root, 'report.html');
  const empty = () => path.join(root, 'empty.html');

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-report-'));
    const home = path.join(root, 'home');
    expect(
      await main(['node', 'chartflow', 'backfill', '--from', from, '--to', to, '--json'], cli(home, out)),
    ).toBe(0);
    const args = ['node', 'chartflow', 'report', '--from', from, '--to', to];
    expect(await main([...args, '--out', report()], cli(home, out))).toBe(0);
    expect(await main([...args, '--out', empty()], cli(path.join(root, 'nothing'), out))).toBe(0);
    browser = await launchChromium();
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps in every run record what landing its day took, the requests adding up to the backfill’s', async () => {
    const summary = JSON.parse(out[0]!) as { requests: Record<string, number> };
    const records = await new RunRecords(new FsObjectStore({ root: path.join(root, 'home', 'lake') })).latest(
      {
        limit: 100,
        chartId: 'global',
        today: to,
      },
    );
    expect(records).toHaveLength(14);
    const summed: Record<string, number> = {};
    for (const record of records) {
      expect(record.landing?.quarantined).toBe(0);
      for (const [provider, made] of Object.entries(record.landing!.requests!)) {
        summed[provider] = (summed[provider] ?? 0) + made;
      }
    }
    expect(summed).toEqual(summary.requests);
  });

  it('says where it wrote the report, and that it is there to open', () => {
    expect(out.at(-2)).toBe(
      `chartflow: wrote the report of global, ${from} to ${to}: open file://${report()} to see the charts`,
    );
  });

  it('draws every section’s chart with marks, from file:// with the network off, without a console error', async () => {
    const { page, errors, requests } = await openOffline(browser, report());
    // Every chart container has its SVG once vega-embed has drawn it (a string: the tests have no DOM types).
    await page.waitForFunction(
      "[...document.querySelectorAll('.chart')].every((chart) => chart.querySelector('svg'))",
      null,
      {
        timeout: 30_000,
      },
    );
    for (const id of sections) {
      const marks = await page.locator(`section#${id} .chart svg g.role-mark > *`).count();
      expect(marks, `marks drawn in section ${id}`).toBeGreaterThan(0);
    }
    expect(await page.locator('.empty').allTextContents()).toEqual([
      expect.stringMatching(/^No catalog sample collected yet/),
    ]);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('shows the numbers the marts hold: the top of the last day, and the ten trajectories', async () => {
    const asked: string[] = [];
    const home = path.join(root, 'home');
    await main(
      [
        'node',
        'chartflow',
        'sql',
        '--format',
        'json',
        `select e.position, t.track_name, e.days_on_chart, e.total_days_on_chart
         from marts.fct_chart_entries e join marts.dim_tracks t on t.track_id = e.track_id
         where e.chart_id = 'global' and e.chart_date = cast('${to}' as date) and e.position <= 3
         order by e.position`,
      ],
      cli(home, asked),
    );
    const top = JSON.parse(asked[0]!) as { position: number; track_name: string; days_on_chart: number }[];
    expect(top).toHaveLength(3);
    const { page } = await openOffline(browser, report());
    // The data-health table says what each run's day took of the providers.
    expect(await page.locator('section#data-health tbody tr').first().textContent()).toMatch(/spotify\s\d+/);
    const rows = await page
      .locator('section#chart-now tbody tr')
      .evaluateAll((trs) =>
        trs.slice(0, 3).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
    expect(rows.map((r) => [Number(r[0]), r[1], Number(r[4])])).toEqual(
      top.map((t) => [t.position, t.track_name, t.days_on_chart]),
    );
    expect(await page.locator('section#chart-now strong').first().textContent()).toBe(to);
    await page.waitForSelector('#trajectories-chart svg');
    const legend = await page.locator('#trajectories-chart svg g.role-legend-label text').allTextContents();
    expect(legend).toHaveLength(10);
  });

  it('says "no data yet" in every section of an empty warehouse, and draws nothing', async () => {
    const { page, errors, requests } = await openOffline(browser, empty());
    for (const id of sections) {
      await expect(page.locator(`section#${id} .empty`).textContent()).resolves.toMatch(
        /^No (data|runs recorded) yet/,
      );
      expect(await page.locator(`section#${id} .chart`).count()).toBe(0);
    }
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('is one file small enough to email, the charting library inside it', async () => {
    expect(existsSync(report())).toBe(true);
    expect((await stat(report())).size).toBeLessThan(2 * 1024 * 1024);
  });
});
