// What the client benchmarks share: Debian's headless Chromium, launched as the end-to-end
// tests launch it, and a signed-in page with the HTTP cache off, ready to load the page measured.
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from '../end2end/chromium.mjs';

export function launchChromium() {
  return chromium.launch(chromiumLaunchOptions);
}

// A fresh context (no cache, no cookies) that signs in, and a new page in it with the HTTP cache
// turned off through the DevTools protocol, so the bundle is fetched again when it loads. Until
// 2026-12-06 the cache was turned off by routing every request through Playwright, which sent
// each one on a round trip to the script. Returns the context (close it after), the page and
// its DevTools session.
export async function signedInPage(browser, url, email, password) {
  const context = await browser.newContext({ baseURL: url });
  const signIn = await context.newPage();
  await signIn.goto('/sign-in');
  await signIn.getByLabel('Email').fill(email);
  await signIn.getByLabel('Password').fill(password);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await signIn.waitForSelector('body[data-hydrated=true]');
  const page = await context.newPage();
  const devtools = await context.newCDPSession(page);
  await devtools.send('Network.enable');
  await devtools.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { context, page, devtools };
}
