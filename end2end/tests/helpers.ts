import { expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Signs in with the demo password and waits until the page is interactive. */
export async function signIn(page: Page, email: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('actioncenter');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expectHydrated(page);
}

/** The page is interactive: the wasm has hydrated it (the frontend sets `data-hydrated`). */
export async function expectHydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Sets a marker on `window` that a document load would lose (see `expectNoDocumentLoad`). */
export async function mark(page: Page) {
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'kept'));
}

/** The page is the one `mark` marked: nothing since loaded a document. */
export async function expectNoDocumentLoad(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('kept');
}

/** The card of the item with this title. */
export function item(page: Page, title: string): Locator {
  return page.getByRole('article').filter({ has: page.getByRole('heading', { name: title }) });
}

/** The bell's badge: the number of pending actions. */
export function badge(page: Page): Locator {
  return page.getByRole('button', { name: 'Notifications' }).getByTestId('badge');
}

/** A message the loopback SMTP sink received, decoded enough to read links and headers. */
export type Mail = { to: string; subject: string; text: string; header: (name: string) => string };

function decodeQuotedPrintable(body: string): string {
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

function readMail(file: string): Mail {
  const raw = fs.readFileSync(file, 'utf8');
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => head.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1]?.trim() ?? '';
  let text = raw;
  if (/Content-Transfer-Encoding: quoted-printable/i.test(raw)) text = decodeQuotedPrintable(raw);
  for (const b64 of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g)) {
    text += Buffer.from(b64[1].replace(/\s/g, ''), 'base64').toString('utf8');
  }
  return { to: header('To'), subject: header('Subject'), text, header };
}

/** Waits for a message to `to` that the SMTP sink wrote to E2E_MAIL_DIR (set by the config). */
export async function waitForMail(to: string, matching: RegExp = /./, timeoutMs = 15_000): Promise<Mail> {
  const dir = process.env.E2E_MAIL_DIR!;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort() : [];
    for (const f of files.reverse()) {
      const mail = readMail(path.join(dir, f));
      if (mail.to.includes(to) && matching.test(mail.text)) return mail;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no email to ${to} matching ${matching} arrived in ${dir}`);
}
