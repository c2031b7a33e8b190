import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, which the tests drive (CHARTFLOW_CHROMIUM names another). */
export const chromiumPath = process.env.CHARTFLOW_CHROMIUM ?? '/usr/bin/chromium';

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

/** A page opened from a file with the network off, and what it did that a report must not do. */
export interface OpenedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, as the page reported them. */
  readonly errors: string[];
  /** Every request for anything but the file itself (file:, data:, about:): none is expected. */
  readonly requests: string[];
}

/**
 * Starts headless Chromium as this machine allows it (as root: no sandbox; no background
 * networking, which a closed network refuses many times over).
 */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

/** Opens an HTML file in a new offline context, and waits for it to load. */
export const openOffline = async (browser: Browser, file: string): Promise<OpenedPage> => {
  const context = await browser.newContext({ offline: true, viewport: { width: 1150, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (!/^(file|data|about):/.test(request.url())) requests.push(request.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
};
