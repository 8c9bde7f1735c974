// Time to first paint and to hydration of the Action Center page in headless Chromium on
// loopback. Usage: node bench/client.mjs URL EMAIL PASSWORD RUNS
// Prints one JSON line. Each run is a fresh browser context (no cache): HTML, CSS, JS and the
// wasm bundle are fetched and compiled every time.
import { chromium } from '@playwright/test';

const [url, email, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

// Records when the hydrated flag appears, measured on the page's own clock.
const recordHydration = () => {
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
};

const paint = [];
const hydration = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ baseURL: url });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-hydrated=true]');
  // The measured load: the signed-in Action Center. Routing every request through Playwright
  // turns the HTTP cache off, so the bundle is fetched again.
  const measured = await context.newPage();
  await measured.addInitScript(recordHydration);
  await measured.route('**/*', (route) => route.continue());
  await measured.goto('/action-center');
  if (new URL(measured.url()).pathname !== '/action-center') {
    throw new Error(`signing in as ${email} failed: the Action Center sent the browser to ${measured.url()}`);
  }
  await measured.waitForSelector('body[data-hydrated=true]');
  const t = await measured.evaluate(() => ({
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    hydrated: window.__hydratedAt ?? null,
  }));
  if (t.paint !== null) paint.push(t.paint);
  if (t.hydrated !== null) hydration.push(t.hydrated);
  await context.close();
}
await browser.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
console.log(
  JSON.stringify({
    bench: 'client',
    runs,
    first_paint_ms: median(paint),
    hydrated_ms: median(hydration),
    first_paint_max_ms: Math.max(...paint),
    hydrated_max_ms: Math.max(...hydration),
  }),
);
