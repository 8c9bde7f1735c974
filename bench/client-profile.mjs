// Where the browser's main thread spends a load of the signed-in Action Center: a sampled CPU
// profile (DevTools protocol) from navigation to `body[data-hydrated]`, summed by function,
// with all wasm as one entry (the release wasm has no names) and the browser's own work
// (parsing, style, layout, paint, compiling) as "(program)".
// Usage: node bench/client-profile.mjs URL EMAIL PASSWORD [RUNS] [PATH]
// Prints milliseconds per load, the largest first.
import { launchChromium, signedInPage } from './browser.mjs';

const [url, email, password, runsArg, pathArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const measuredPath = pathArg ?? '/action-center';

const browser = await launchChromium();

const total = new Map();
let sampled = 0;
for (let i = 0; i < runs; i++) {
  const { context, page: measured, devtools } = await signedInPage(browser, url, email, password);
  await devtools.send('Profiler.enable');
  await devtools.send('Profiler.setSamplingInterval', { interval: 100 });
  await devtools.send('Profiler.start');
  await measured.goto(measuredPath);
  await measured.waitForSelector('body[data-hydrated=true]');
  const { profile } = await devtools.send('Profiler.stop');
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  profile.samples.forEach((id, k) => {
    const frame = nodes.get(id);
    let name = frame.functionName || '(anonymous)';
    if (frame.url.endsWith('.wasm') || frame.url.startsWith('wasm')) name = 'wasm';
    else if (frame.url) name = `${frame.url.replace(/^.*\//, '')}: ${name}`;
    const ms = (profile.timeDeltas[k] ?? 0) / 1000;
    total.set(name, (total.get(name) ?? 0) + ms);
    sampled += ms;
  });
  await context.close();
}
await browser.close();

console.log(`${measuredPath}: ${(sampled / runs).toFixed(1)} ms sampled per load, ${runs} loads`);
for (const [name, ms] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`${(ms / runs).toFixed(1).padStart(8)}  ${name}`);
}
