import { existsSync } from 'node:fs';
import { median } from './measure.js';

/**
 * How long a report takes to draw in a browser: Debian's Chromium opens the file (offline, as the
 * report tests do) `runs` times, each timed from navigation until every chart's SVG is there.
 * `undefined` when Chromium is not installed (the bench says so, and the figure is left out).
 */
export const measureReportDrawing = async (file: string, runs: number): Promise<number | undefined> => {
  const { chromiumPath, launchChromium, openOffline } = await import('./chromium.js');
  if (!existsSync(chromiumPath)) return undefined;
  const browser = await launchChromium();
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      const { page, errors } = await openOffline(browser, file);
      await page.waitForFunction(
        "[...document.querySelectorAll('.chart')].every((chart) => chart.querySelector('svg'))",
        null,
        { timeout: 60_000 },
      );
      times.push(performance.now() - started);
      if (errors.length > 0) throw new Error(`the report logged errors: ${errors.join('; ')}`);
      await page.context().close();
    }
    return median(times);
  } finally {
    await browser.close();
  }
};
