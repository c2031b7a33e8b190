/**
 * Makes the report's pictures in docs/images/: a 60-day sandbox backfill in a home of its own, its
 * report, and a picture of each section in headless Chromium (bench/chromium.ts), from
 * file:// with the network off. Run with `npm run docs:screenshots`; it needs Debian's chromium.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../infra/local/cli/main.js';
import { parseLocalConfig } from '../shared/config/config.js';
import { systemClock } from '../shared/ports/clock.js';
import { launchChromium, openOffline } from '../bench/chromium.js';

const from = '2026-10-08';
const to = '2026-12-06';
const sections = ['chart-now', 'trajectories', 'longevity', 'features', 'new-releases', 'data-health'];
const images = path.join(import.meta.dirname, '..', 'docs', 'images');

const home = await mkdtemp(path.join(tmpdir(), 'chartflow-screenshots-'));
try {
  const context = {
    config: () => parseLocalConfig({ ...process.env, CHARTFLOW_HOME: home }),
    clock: systemClock,
    processEnv: process.env,
    out: (text: string) => console.log(text),
    note: (text: string) => console.error(text),
  };
  const backfill = await main(['node', 'chartflow', 'backfill', '--from', from, '--to', to, '--json'], {
    ...context,
    out: () => undefined,
  });
  if (backfill !== 0) throw new Error(`the backfill exited ${backfill}`);
  const report = path.join(home, 'report.html');
  if (
    (await main(['node', 'chartflow', 'report', '--from', from, '--to', to, '--out', report], context)) !== 0
  ) {
    throw new Error('the report failed');
  }
  const browser = await launchChromium();
  try {
    const { page, errors, requests } = await openOffline(browser, report);
    await page.waitForFunction(
      "[...document.querySelectorAll('.chart')].every((chart) => chart.querySelector('svg'))",
      null,
      { timeout: 30_000 },
    );
    for (const id of sections) {
      const file = path.join(images, `report-${id}.png`);
      await page.locator(`section#${id}`).screenshot({ path: file });
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
    if (errors.length || requests.length)
      throw new Error(`the page said ${[...errors, ...requests].join('; ')}`);
  } finally {
    await browser.close();
  }
} finally {
  await rm(home, { recursive: true, force: true });
}
