import { signIn, mark, expectNoDocumentLoad, item, badge, expectHydrated } from './helpers';
import { expect, test, type APIRequestContext } from '@playwright/test';

// The UI is a single-page app: moving between pages, acting on items, saving preferences and
// live changes happen in the page. Each test sets a marker on `window` that a document load
// would lose, and checks it is still there.

const KEY = 'demo-platform-key';

async function publish(request: APIRequestContext, title: string, roles: string[], category = 'recommended') {
  const action = category === 'mandatory' || category === 'recommended';
  const res = await request.post('/api/v1/items', {
    headers: { Authorization: `Bearer ${KEY}` },
    data: {
      kind: action ? 'action' : 'notification',
      category,
      org_id: 'contoso',
      workspace: 'billing',
      audience: { roles, user_ids: [] },
      title: { en: title },
      ...(action ? { due_at: '2030-06-30T12:00:00Z' } : {}),
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).id as string;
}

// The server renders a page while its data loads, and the browser must find every piece of
// that data under the id it gives it (a header that made its bell's data anew each time the
// server re-rendered it broke one load in three).
test('every page hydrates on every load, without an error', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin@contoso.test');
  for (const path of ['/action-center', '/action-center/actions', '/action-center/notifications', '/preferences', '/admin']) {
    for (let i = 0; i < 4; i++) {
      await page.goto(path);
      await expectHydrated(page);
    }
  }
  expect(errors).toEqual([]);
});

test('every page is reached without a document load', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await mark(page);
  const steps: [string, RegExp, RegExp | string][] = [
    ['Actions', /\/action-center\/actions$/, 'Complete your account verification'],
    ['Notifications', /\/action-center\/notifications$/, /./],
    ['Archived', /\/action-center\/archived$/, /./],
    ['Overview', /\/action-center$/, 'At a glance'],
  ];
  for (const [link, url, heading] of steps) {
    await page.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveURL(url);
    await expect(page.getByRole('heading', { name: heading }).first()).toBeVisible();
  }
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users and roles' })).toBeVisible();
  await page.getByRole('link', { name: 'Audit trail' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit trail' })).toBeVisible();
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.getByRole('link', { name: 'My preferences' }).click();
  await expect(page).toHaveURL(/\/preferences$/);
  await expect(page.getByRole('heading', { level: 1, name: 'My preferences' })).toBeVisible();
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.getByRole('link', { name: 'Go to Action Center' }).click();
  await expect(page.getByRole('heading', { name: 'At a glance' })).toBeVisible();
  await expectNoDocumentLoad(page);
});

test('a publish appears in the open list and the open bell pane', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page.getByTestId('item').first()).toBeVisible();
  await page.getByRole('button', { name: 'Notifications' }).click();
  const pane = page.locator('#bell-pane');
  await expect(pane.getByTestId('bell-actions')).toBeVisible();
  await mark(page);
  const before = Number(await badge(page).textContent());
  await publish(request, 'Renew the billing contract', ['billing_admin']);
  await expect(item(page, 'Renew the billing contract')).toBeVisible();
  await expect(pane.getByTestId('bell-actions').getByRole('link', { name: 'Renew the billing contract' })).toBeVisible();
  await expect(badge(page)).toHaveText(String(before + 1));
  await expectNoDocumentLoad(page);
});

test('archive and unarchive in the page, and a refusal rolled back in words', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toBeVisible();
  await mark(page);
  const before = Number(await badge(page).textContent());
  await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Archive' }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before - 1));
  // Focus stays in the list.
  expect(await page.evaluate(() => document.activeElement?.closest('#item-list') !== null)).toBe(true);
  await page.getByRole('link', { name: 'Archived' }).click();
  await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Unarchive' }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before));
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toBeVisible();

  // The server refuses (the connection fails): the item comes back, with the reason.
  await page.route('**/api/items_archive*', (route) => route.abort());
  await item(page, 'Update your tax profile').getByRole('button', { name: 'Archive' }).click();
  await expect(page.getByRole('alert')).toContainText('Could not archive');
  await expect(item(page, 'Update your tax profile')).toBeVisible();
  await expectNoDocumentLoad(page);
});

test('a filter change narrows the list in the page', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page.getByTestId('item').first()).toBeVisible();
  await mark(page);
  await page.getByLabel('Category').selectOption('mandatory');
  await page.getByLabel('Workspace').selectOption('billing');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/workspace=billing/);
  await expect(page.getByTestId('item')).toHaveCount(1);
  await expect(page.getByTestId('workspace')).toHaveText(['Billing']);
  await expectNoDocumentLoad(page);
});

test('preferences save in the page and focus stays on Save', async ({ page }) => {
  await signIn(page, 'dev@contoso.test');
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.getByRole('link', { name: 'My preferences' }).click();
  await expect(page.getByLabel('Job function')).toBeVisible();
  await mark(page);
  await page.getByLabel('Job function').fill('Integration engineer');
  await page.getByRole('switch', { name: 'Promotional notifications' }).uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeFocused();
  await expectNoDocumentLoad(page);
  await page.reload();
  await expect(page.getByLabel('Job function')).toHaveValue('Integration engineer');
  await expect(page.getByRole('switch', { name: 'Promotional notifications' })).not.toBeChecked();
});

test("an admin's role grant appears live in another user's open list", async ({ page, browser, request }) => {
  const title = 'Review the referral payout';
  await publish(request, title, ['referrals_admin']);
  await signIn(page, 'dev@contoso.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page.getByTestId('item').first()).toBeVisible();
  await expect(item(page, title)).toHaveCount(0);
  await mark(page);

  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'admin@contoso.test');
  await admin.getByRole('link', { name: 'Administration' }).click();
  const grant = admin.getByRole('switch', { name: 'referrals_admin: dev@contoso.test' });
  await expect(grant).toHaveAttribute('aria-checked', 'false');
  await grant.click();
  await expect(grant).toHaveAttribute('aria-checked', 'true');

  await expect(item(page, title)).toBeVisible();
  await expectNoDocumentLoad(page);

  await grant.click();
  await expect(grant).toHaveAttribute('aria-checked', 'false');
  await expect(item(page, title)).toHaveCount(0);
  await admin.context().close();
});

test('the icon and the web manifest are served, and the page names them', async ({ page, request }) => {
  const manifest = await request.get('/manifest.webmanifest');
  expect(manifest.status()).toBe(200);
  expect((await manifest.json()).name).toBe('Action Center');
  const icon = await request.get('/favicon.svg');
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toContain('image/svg+xml');
  await page.goto('/sign-in');
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute('href', '/favicon.svg');
});
