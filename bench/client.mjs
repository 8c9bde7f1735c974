// Time to first paint and to hydration of the Action Center page in headless Chromium on
// loopback, how long the hydration itself took (from the wasm's `hydrate()` call, marked
// `hydration-start` by the frontend, to `data-hydrated`), and the wasm and JS the browser
// downloaded before the page was interactive.
// Usage: node bench/client.mjs URL EMAIL PASSWORD RUNS [PATH]
// Prints one JSON line. Each run is a fresh browser context (no cache): HTML, CSS, JS and the
// wasm bundle are fetched and compiled every time. PATH (default /action-center) is the page
// measured.
import { launchChromium, signedInPage } from './browser.mjs';

const [url, email, password, runsArg, pathArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);
const measuredPath = pathArg ?? '/action-center';

const browser = await launchChromium();

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
const code = [];
const pageArrived = [];
const hydrationWork = [];
for (let i = 0; i < runs; i++) {
  // The measured load: the signed-in Action Center, the bundle fetched again.
  const { context, page: measured } = await signedInPage(browser, url, email, password);
  await measured.addInitScript(recordHydration);
  // Every wasm and JS response, with when it was asked for and its size on the wire.
  const fetched = [];
  measured.on('requestfinished', async (request) => {
    if (!/\.(wasm|js)$/.test(new URL(request.url()).pathname)) return;
    const sizes = await request.sizes();
    fetched.push({ start: request.timing().startTime, bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await measured.goto(measuredPath);
  if (new URL(measured.url()).pathname !== measuredPath) {
    throw new Error(`signing in as ${email} failed: the Action Center sent the browser to ${measured.url()}`);
  }
  await measured.waitForSelector('body[data-hydrated=true]');
  const t = await measured.evaluate(() => ({
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    hydrated: window.__hydratedAt ?? null,
    hydrationStart: performance.getEntriesByName('hydration-start')[0]?.startTime ?? null,
    origin: performance.timeOrigin,
    // When the server's page had arrived whole: what is left after it is the browser's.
    responseEnd: performance.getEntriesByType('navigation')[0]?.responseEnd ?? null,
  }));
  if (t.responseEnd !== null) pageArrived.push(t.responseEnd);
  if (t.paint !== null) paint.push(t.paint);
  if (t.hydrated !== null) {
    hydration.push(t.hydrated);
    if (t.hydrationStart !== null) hydrationWork.push(t.hydrated - t.hydrationStart);
    // Requests still in flight have not reported yet: wait until the network is quiet.
    await measured.waitForLoadState('networkidle');
    const before = t.origin + t.hydrated;
    code.push(fetched.filter((f) => f.start <= before).reduce((sum, f) => sum + f.bytes, 0));
  }
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
    path: measuredPath,
    page_arrived_ms: median(pageArrived),
    first_paint_ms: median(paint),
    hydrated_ms: median(hydration),
    first_paint_max_ms: Math.max(...paint),
    hydrated_max_ms: Math.max(...hydration),
    // From the `hydrate()` call to interactive: the hydration itself.
    hydration_ms: median(hydrationWork),
    hydration_max_ms: hydrationWork.length ? Math.max(...hydrationWork) : null,
    // Brotli-encoded when the browser accepts it, as every current browser does.
    code_bytes_before_interactive: median(code),
  }),
);
