import { type Browser, expect, test } from '@playwright/test';
import { signIn, waitForMail, expectHydrated } from './helpers';

/** The invitee follows the link in their invitation, chooses a password and lands in setup. */
async function acceptInvitation(browser: Browser, email: string) {
  const mail = await waitForMail(email, /set-password/);
  const link = mail.text.match(/https?:\/\/[^\s"<]+\/set-password\/[0-9a-f]{64}/)![0];
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await page.getByLabel('New password').fill('a good long password');
  await page.getByLabel('Repeat the password').fill('a good long password');
  await page.getByRole('button', { name: 'Save password' }).click();
  await expect(page).toHaveURL(/\/setup$/);
  return { context, page, link };
}

test('an admin grants a role and the user sees it live; the last admin stays', async ({ page, browser }, info) => {
  // The developer's page is open while the admin grants billing_admin.
  const devContext = await browser.newContext();
  const dev = await devContext.newPage();
  await signIn(dev, 'dev@contoso.test');
  await dev.goto('/action-center/actions');
  await expectHydrated(dev);
  const badge = dev.getByRole('button', { name: 'Notifications' });
  const before = await badge.textContent();

  await signIn(page, 'admin@contoso.test');
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page.getByRole('heading', { name: 'Users and roles' })).toBeVisible();
  await expectHydrated(page);
  await page.screenshot({ path: info.outputPath('admin.png'), fullPage: true });
  // Each switch is a form: pressing it posts the change and the page comes back with it.
  const billing = page.getByRole('switch', { name: 'billing_admin: dev@contoso.test' });
  await billing.click();
  await expect(billing).toBeChecked();
  await expect(dev.getByRole('heading', { name: 'Confirm your payout bank details' })).toBeVisible();
  expect(await badge.textContent()).not.toBe(before);

  await billing.click();
  await expect(billing).not.toBeChecked();
  await expect(dev.getByRole('heading', { name: 'Confirm your payout bank details' })).toHaveCount(0);

  // The only account admin cannot remove their own role.
  await page.getByRole('switch', { name: 'account_admin: admin@contoso.test' }).click();
  await expect(page.getByRole('alert')).toContainText('at least one account admin');
  await expect(page.getByRole('switch', { name: 'account_admin: admin@contoso.test' })).toBeChecked();

  await page.getByRole('link', { name: 'Audit trail' }).click();
  await expect(page.getByTestId('audit-line').filter({ hasText: 'role.revoke' }).first()).toContainText('admin@contoso.test');
  await devContext.close();
});

test('an invited user chooses a password from the email and lands in setup', async ({ page, browser }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/admin');
  await expectHydrated(page);
  await page.getByLabel('Email', { exact: true }).fill('ivy@contoso.test');
  await page.getByLabel('Name', { exact: true }).fill('Ivy Invitee');
  await page.getByLabel('sales_agent', { exact: true }).check();
  await page.getByRole('button', { name: 'Invite' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Invitation sent to ivy@contoso.test' })).toBeVisible();
  await expect(page.getByTestId('member').filter({ hasText: 'ivy@contoso.test' })).toContainText('Invited, no password yet');

  const { context, page: ivy, link } = await acceptInvitation(browser, 'ivy@contoso.test');
  await ivy.goto(link);
  await expect(ivy.getByRole('alert')).toContainText('already used');
  await context.close();
});

test('producer text with markup is shown as text and never runs', async ({ page, request }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const title = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">Quarterly review`;
  const res = await request.post('/api/v1/items', {
    headers: { Authorization: 'Bearer demo-platform-key' },
    data: {
      kind: 'notification',
      category: 'transactional',
      org_id: 'contoso',
      workspace: 'billing',
      audience: { roles: ['account_admin'], user_ids: [] },
      title: { en: title },
      body: { en: '<b onmouseover="window.__xss = 3">bold?</b>' },
    },
  });
  expect(res.status()).toBe(201);
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/notifications');
  await expectHydrated(page);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.mouse.move(0, 0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('pages are not framed and carry a nonce-based CSP that still hydrates', async ({ page }) => {
  const response = await page.goto('/sign-in');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(response!.headers()['x-frame-options']).toBe('DENY');
  await expectHydrated(page);
});

test('the delivery report counts who an item reached, was emailed and read it', async ({ page, request }) => {
  const title = 'Delivery check 2031';
  const published = await request.post('/api/v1/items', {
    headers: { Authorization: 'Bearer demo-platform-key' },
    data: {
      org_id: 'contoso',
      workspace: 'account_settings',
      kind: 'notification',
      category: 'transactional',
      title: { en: title, nl: 'Bezorgcontrole 2031' },
      audience: { roles: ['account_admin'], user_ids: [] },
    },
  });
  expect(published.status()).toBe(201);
  await waitForMail('admin@contoso.test', new RegExp(title));

  await signIn(page, 'admin@contoso.test');
  const row = () => page.getByTestId('delivery').getByRole('row', { name: new RegExp(title) });
  // Reached, emailed, email failed, read, archived. The page reads them once, so look again
  // until the worker has recorded the email as sent.
  const reportSays = async (cells: string[]) =>
    expect(async () => {
      await page.goto('/admin');
      await expect(page.getByRole('heading', { name: 'Delivery' })).toBeVisible();
      await expect(row().getByRole('cell')).toHaveText(cells, { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  await reportSays(['1', '1', '0', '0', '0']);

  await page.goto('/action-center/notifications');
  await expectHydrated(page);
  await page.locator('article', { hasText: title }).getByRole('button', { name: 'Mark as read' }).click();
  await expect(page.locator('article', { hasText: title }).getByRole('button', { name: 'Mark as read' })).toHaveCount(0);
  await reportSays(['1', '1', '0', '1', '0']);
});

test('an admin chooses which workspace email new users start with', async ({ page, browser }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/admin');
  await expectHydrated(page);
  const billing = page.getByRole('switch', { name: 'Billing', exact: true });
  await expect(billing).toHaveAttribute('aria-checked', 'true');
  await billing.click();
  await expect(billing).toHaveAttribute('aria-checked', 'false');
  await page.reload();
  await expectHydrated(page);
  await expect(billing).toHaveAttribute('aria-checked', 'false');

  // Someone invited now starts with Billing's email off, and can turn it on in setup.
  await page.getByLabel('Email', { exact: true }).fill('wes@contoso.test');
  await page.getByLabel('Name', { exact: true }).fill('Wes Newcomer');
  await page.getByRole('button', { name: 'Invite' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Invitation sent to wes@contoso.test' })).toBeVisible();
  const { context, page: wes } = await acceptInvitation(browser, 'wes@contoso.test');
  await expect(wes.getByRole('switch', { name: 'Billing' })).not.toBeChecked();
  await expect(wes.getByRole('switch', { name: 'Mandatory actions' })).toBeDisabled();
  await context.close();

  // Back as it was, for the tests that follow.
  await billing.click();
  await expect(billing).toHaveAttribute('aria-checked', 'true');
});

test('an account admin hears live of a mandatory action nobody can receive, and of one gone overdue', async ({ page, request }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  const publish = async (title: string, roles: string[], due_at: string) => {
    const res = await request.post('/api/v1/items', {
      headers: { Authorization: 'Bearer demo-platform-key' },
      data: { kind: 'action', category: 'mandatory', org_id: 'contoso', workspace: 'customers',
        audience: { roles }, title: { en: title }, due_at },
    });
    expect(res.status()).toBe(201);
    return (await res.json()).id as string;
  };
  const close = (id: string) =>
    request.post(`/api/v1/items/${id}/complete`, { headers: { Authorization: 'Bearer demo-platform-key' } });

  // Nobody at Contoso is a marketplace owner (no test grants it; the invitation test above
  // makes a sales agent).
  const orphan = await publish('Confirm the sales territory', ['marketplace_owner'], '2030-03-01T12:00:00Z');
  const alert = page.getByRole('article', { name: 'Nobody can receive “Confirm the sales territory”' });
  await expect(alert).toBeVisible();
  // Its title opens Administration (through the link that marks it read on the way).
  const href = await alert.getByRole('link').getAttribute('href');
  const opened = await page.request.get(href!, { headers: { Accept: 'text/html' }, maxRedirects: 0 });
  expect(opened.headers()['location']).toBe('/admin');

  // Due yesterday, for the finance admin: escalated to the account admin once.
  const late = await publish('Send the signed reseller form', ['billing_admin'], new Date(Date.now() - 86_400_000).toISOString());
  const escalation = page.getByRole('article', { name: 'Overdue and not done: “Send the signed reseller form”' });
  await expect(escalation).toBeVisible();

  // Closing the actions closes what the admin was told about them.
  expect((await close(orphan)).status()).toBe(200);
  expect((await close(late)).status()).toBe(200);
  await expect(alert).toHaveCount(0);
  await expect(escalation).toHaveCount(0);
});
