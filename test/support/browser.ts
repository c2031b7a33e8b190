import { existsSync } from 'node:fs';
import { chromiumPath } from '../../bench/chromium.js';

export { chromiumPath, launchChromium, openOffline, type OpenedPage } from '../../bench/chromium.js';

/**
 * Whether Chromium is here. In CI a missing browser is a failure (.ci/run installs it); elsewhere
 * the browser tests skip, and say why.
 */
export const chromiumAvailable = (): boolean => {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI) throw new Error(`Chromium is required in CI and is not at ${chromiumPath}`);
  console.warn(`Skipping browser tests: no Chromium at ${chromiumPath} (apt-get install chromium)`);
  return false;
};
