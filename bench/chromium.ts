import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium, as the report's tests, the bench and `npm run docs:screenshots` drive it
 * (CHARTFLOW_CHROMIUM names another).
 */
export const chromiumPath = process.env.CHARTFLOW_CHROMIUM ?? '/usr/bin/chromium';

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
