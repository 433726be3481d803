/**
 * A headless Debian chromium for the browser tests (playwright-core drives it; no browser is ever
 * downloaded). Each launch uses a fresh profile folder under os.tmpdir(), removed on close.
 *
 * When /usr/bin/chromium is missing, `requireChromium` fails the suite under CI (CI=true) and skips it
 * anywhere else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { expect } from 'chai';
import { bootKernel, type BootOptions, type TestKernel } from './boot-kernel.js';
import { makeTempDir, removeDir } from './temp-dir.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Call from a `before` hook (with `function`, not an arrow): fails under CI, skips elsewhere. */
export function requireChromium(suite: Mocha.Context): void {
  if (fs.existsSync(CHROMIUM_PATH)) return;
  if (process.env.CI === 'true') throw new Error(`the browser tests need chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
  suite.skip();
}

export interface TestBrowser {
  context: BrowserContext;
  /** Where screenshots go (a temp folder, never the repository). */
  shotsDir: string;
  /** A new page that records console errors and page errors (CSP violations arrive as console errors). */
  newPage(options?: { colorScheme?: 'light' | 'dark' }): Promise<WatchedPage>;
  /** Saves a full-page screenshot as `<name>.png` in shotsDir and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors seen so far, as text. */
  errors: string[];
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profileDir = makeTempDir('taskdeck-chromium-');
  const shotsDir = makeTempDir('taskdeck-shots-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      // Headless as the args say (playwright would otherwise add the flags of a visible window).
      headless: true,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
  } catch (error) {
    removeDir(profileDir);
    removeDir(shotsDir);
    throw error;
  }
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  // A persistent context opens with one blank page: close it, each test opens its own.
  for (const page of context.pages()) await page.close();
  return {
    context,
    shotsDir,
    async newPage(options = {}) {
      const page = await context.newPage();
      if (options.colorScheme) await page.emulateMedia({ colorScheme: options.colorScheme });
      const errors: string[] = [];
      page.on('console', (message: ConsoleMessage) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
      });
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      return { page, errors };
    },
    async screenshot(page, name) {
      const file = path.join(shotsDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      try {
        await context.close();
      } finally {
        removeDir(profileDir);
        if (process.env.TASKDECK_KEEP_SHOTS !== 'true') removeDir(shotsDir);
      }
    },
  };
}

/** The temp root, for assertions that screenshots never land in the repository. */
export const TEMP_ROOT = os.tmpdir();

export interface BrowserSuite {
  /** The kernel (listening on port 0, temp database and plugins folder). */
  readonly t: TestKernel;
  readonly browser: TestBrowser;
  /** The kernel's base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
}

/**
 * Registers `before`/`after` hooks that boot a listening kernel and launch chromium for the enclosing
 * `describe` (`setup` runs once the kernel is up, e.g. to register tasks). Skips (or, under CI, fails) the suite when chromium is missing.
 */
export function useBrowserSuite(options: BootOptions = {}, setup?: (t: TestKernel) => void | Promise<void>): BrowserSuite {
  let t: TestKernel | undefined;
  let browser: TestBrowser | undefined;
  before(async function () {
    this.timeout(40_000);
    requireChromium(this);
    t = await bootKernel({ ...options, listen: true });
    await setup?.(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.cleanup();
  });
  return {
    get t() {
      if (!t) throw new TypeError('the browser suite is not booted');
      return t;
    },
    get browser() {
      if (!browser) throw new TypeError('the browser suite is not booted');
      return browser;
    },
    get url() {
      if (!t) throw new TypeError('the browser suite is not booted');
      return t.kernel.url;
    },
  };
}

/** Asserts the page logged no console error and threw nothing (CSP violations are console errors). */
export function expectNoPageErrors(watched: WatchedPage, where = watched.page.url()): void {
  expect(watched.errors, `console or page errors on ${where}`).to.deep.equal([]);
}

/**
 * Checks a page as the tests visit it: no console or page error so far, and a non-empty screenshot
 * (saved in the browser's temp folder, outside the repository).
 */
export async function checkPage(browser: TestBrowser, watched: WatchedPage, name: string): Promise<string> {
  expectNoPageErrors(watched);
  const file = await browser.screenshot(watched.page, name);
  expect(path.resolve(file).startsWith(path.resolve(TEMP_ROOT) + path.sep), 'screenshots go to the temp folder').to.equal(true);
  expect(fs.statSync(file).size, `screenshot ${name}`).to.be.greaterThan(1000);
  return file;
}
