import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChartScripts } from './report-html.js';

/**
 * The charting library a report carries, from the packages installed with chartflow: Vega, Vega-Lite
 * and vega-embed, each its own minified browser build, in the order they load (vega-embed finds the
 * other two as globals). About 840 KB together; nothing is fetched when the report is opened.
 */
export const loadChartScripts = async (): Promise<ChartScripts> => {
  const builds = [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js'],
  ] as const;
  const scripts = await Promise.all(
    builds.map(([name, file]) =>
      // Each package's entry point is in its build/ folder, beside the minified browser build.
      readFile(path.join(path.dirname(fileURLToPath(import.meta.resolve(name))), file), 'utf8'),
    ),
  );
  return { scripts };
};
