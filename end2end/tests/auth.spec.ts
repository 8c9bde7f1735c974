import { expect, test, type Page } from '@playwright/test';
import { expectHydrated } from './helpers';

const PASSWORD = 'actioncenter';

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function sessionCookie(page: Page) {
  return (await page.context().cookies()).find((c) => c.name === 'ac_session');
}

test('an anonymous visitor is sent to sign-in', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('admin signs in and sees the header with their name', async ({ page }, testInfo) => {
  await signIn(page, 'admin@contoso.test', PASSWORD);
  await expect(page).toHaveURL(/\/action-center$/);
  const header = page.getByRole('banner');
  await expect(header.getByTestId('user-name')).toHaveText('Ada Admin');
  await expect(header).toContainText('admin@contoso.test');
  await expect(header).toContainText('Contoso');
  await expect(header.getByRole('button', { name: 'Notifications' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Action Center' })).toBeVisible();
  const cookie = await sessionCookie(page);
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  await page.screenshot({ path: testInfo.outputPath('home.png'), fullPage: true });
});

test('the page hydrates: the wasm bundle loads and runs', async ({ page }) => {
  const failed: string[] = [];
  page.on('pageerror', (e) => failed.push(e.message));
  page.on('response', (r) => {
    if (r.url().includes('/pkg/') && r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/action-center.wasm') && r.ok());
  await signIn(page, 'dev@contoso.test', PASSWORD);
  const response = await wasm;
  expect(['br', 'gzip']).toContain(response.headers()['content-encoding']);
  await expect(page.getByTestId('user-name')).toHaveText('Dev Developer');
  await expectHydrated(page);
  await page.waitForLoadState('networkidle');
  expect(failed).toEqual([]);
});

test('a wrong password gets a clear message and no session', async ({ page }, testInfo) => {
  await signIn(page, 'admin@contoso.test', 'not-the-password');
  await expect(page).toHaveURL(/\/sign-in\?error/);
  await expect(page.getByRole('alert')).toHaveText('The email or password is not correct.');
  expect(await sessionCookie(page)).toBeUndefined();
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/sign-in?error=credentials');
  await page.screenshot({ path: testInfo.outputPath('sign-in-error.png'), fullPage: true });
});

test('an unknown email gets the same message', async ({ page }) => {
  await signIn(page, 'nobody@contoso.test', PASSWORD);
  await expect(page.getByRole('alert')).toHaveText('The email or password is not correct.');
  expect(await sessionCookie(page)).toBeUndefined();
});

test('sign out ends the session', async ({ page }) => {
  await signIn(page, 'finance@contoso.test', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Fin Finance');
  const before = await sessionCookie(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  expect(await sessionCookie(page)).toBeUndefined();
  // The old token no longer opens a session, even if replayed.
  await page.context().addCookies([{ ...before!, expires: -1 }]);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('users of another organisation see only their own org', async ({ page }) => {
  await signIn(page, 'admin@fabrikam.test', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Fay Fabrikam');
  await expect(page.getByRole('banner')).toContainText('Fabrikam');
  await expect(page.getByRole('banner')).not.toContainText('Contoso');
});
