import { expect, test } from '@playwright/test';
import { signIn, waitForMail, expectHydrated } from './helpers';

test('locked switches say why; optional ones are saved', async ({ page }, info) => {
  await signIn(page, 'finance@contoso.test');
  await page.goto('/preferences');
  await expectHydrated(page);
  const mandatory = page.getByRole('switch', { name: 'Mandatory actions' });
  await expect(mandatory).toBeDisabled();
  await expect(mandatory).toBeChecked();
  await expect(mandatory).toHaveAccessibleDescription(/cannot be turned off/);
  await expect(page.getByRole('switch', { name: 'In-app notifications' })).toHaveAccessibleDescription(/Always on/);

  await page.getByRole('switch', { name: 'Promotional notifications' }).uncheck();
  await page.getByRole('switch', { name: 'Billing' }).uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('preferences.png'), fullPage: true });
  await page.reload();
  await expect(page.getByRole('switch', { name: 'Promotional notifications' })).not.toBeChecked();
  await expect(page.getByRole('switch', { name: 'Billing' })).not.toBeChecked();
  await expect(page.getByRole('switch', { name: 'Transactional notifications' })).toBeChecked();

  // Back on, so other tests see the demo as seeded.
  await expectHydrated(page);
  await page.getByRole('switch', { name: 'Promotional notifications' }).check();
  await page.getByRole('switch', { name: 'Billing' }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
});

test('an address the server would refuse is caught in the form, with what was typed kept', async ({ page }) => {
  await signIn(page, 'dev@contoso.test');
  await page.goto('/preferences');
  await page.getByLabel('Job function').fill('Release manager');
  const email = page.getByLabel('Notification email');
  await email.fill('dev@contoso');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  expect(await email.evaluate((e) => (e as HTMLInputElement).validity.patternMismatch)).toBe(true);
  await expect(page).toHaveURL(/\/preferences$/);
  await expect(page.getByLabel('Job function')).toHaveValue('Release manager');
  await expect(email).toHaveValue('dev@contoso');
});

test('a new notification email is verified by the link sent to it', async ({ page, context }) => {
  await signIn(page, 'dev@contoso.test');
  await page.goto('/preferences');
  await expectHydrated(page);
  await page.getByLabel('Notification email').fill('dev.inbox@contoso.test');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('verification')).toHaveText('Not verified yet');
  await expect(page.getByText('Until you follow it, email goes to dev@contoso.test')).toBeVisible();
  // Asking again at once is refused with a reason.
  await page.getByRole('button', { name: 'Send verification email' }).click();
  await expect(page.getByRole('alert')).toContainText('less than a minute ago');

  const mail = await waitForMail('dev.inbox@contoso.test', /verify-email/);
  expect(mail.subject).toBe('Confirm your notification email address');
  const link = mail.text.match(/https?:\/\/[^\s"<]+\/verify-email\/[0-9a-f]{64}/)![0];

  // The link works in a browser that is not signed in, and asks before it acts.
  const other = await context.browser()!.newContext();
  const tab = await other.newPage();
  await tab.goto(link);
  await expect(tab.getByText('Use dev.inbox@contoso.test for Action Center email?')).toBeVisible();
  await tab.getByRole('button', { name: 'Confirm' }).click();
  await expect(tab.getByRole('status')).toContainText('dev.inbox@contoso.test is verified');
  await tab.goto(link);
  await tab.getByRole('button', { name: 'Confirm' }).click({ timeout: 2_000 }).catch(() => {});
  await expect(tab.getByRole('alert')).toContainText('already used');
  await tab.goto('/verify-email/' + 'f'.repeat(64));
  await expect(tab.getByRole('alert')).toContainText('not valid');
  await other.close();

  await page.reload();
  await expect(page.getByTestId('verification')).toHaveText('Verified');
  await expect(page.getByRole('button', { name: 'Send verification email' })).toHaveCount(0);
});

test('published email arrives over SMTP; one-click unsubscribe is on notifications only', async ({ page, request }) => {
  const publish = (body: object) =>
    request.post('/api/v1/items', { headers: { Authorization: 'Bearer demo-platform-key' }, data: body });
  const common = { org_id: 'contoso', workspace: 'referrals', audience: { roles: ['account_admin'], user_ids: [] } };
  const action = await publish({
    ...common,
    kind: 'action',
    category: 'recommended',
    title: { en: 'Invite your referral partners' },
    due_at: '2031-01-31T12:00:00Z',
  });
  expect(action.status()).toBe(201);
  const news = await publish({ ...common, kind: 'notification', category: 'promotional', title: { en: 'Partner summit' } });
  expect(news.status()).toBe(201);

  const actionMail = await waitForMail('admin@contoso.test', /Invite your referral partners/);
  expect(actionMail.subject).toBe('Recommended action: Invite your referral partners');
  expect(actionMail.header('List-Unsubscribe')).toBe('');
  const newsMail = await waitForMail('admin@contoso.test', /Partner summit/);
  expect(newsMail.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  const url = newsMail.header('List-Unsubscribe').replace(/^<|>$/g, '');
  expect(url).toMatch(/\/unsubscribe\//);

  // What a mail client does for one-click unsubscribe (RFC 8058): a POST, no cookies.
  const done = await request.post(url, { form: { 'List-Unsubscribe': 'One-Click' } });
  expect(done.status()).toBe(200);
  expect(await done.text()).toContain('You will no longer receive promotional email');

  await signIn(page, 'admin@contoso.test');
  await page.goto('/preferences');
  await expectHydrated(page);
  await expect(page.getByRole('switch', { name: 'Promotional notifications' })).not.toBeChecked();
  await page.getByRole('switch', { name: 'Promotional notifications' }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
});

test('an item email opens its item through a signed link and marks it read', async ({ page, browser, request }) => {
  const publish = (title: string) =>
    request.post('/api/v1/items', {
      headers: { Authorization: 'Bearer demo-platform-key' },
      data: {
        org_id: 'contoso',
        workspace: 'billing',
        kind: 'notification',
        category: 'transactional',
        title: { en: title },
        link: '/action-center/notifications',
        audience: { roles: ['billing_admin'], user_ids: [] },
      },
    });
  const openLink = async (title: string) => {
    expect((await publish(title)).status()).toBe(201);
    const mail = await waitForMail('finance@contoso.test', new RegExp(title));
    const link = mail.text.match(/https?:\/\/\S+\/open\/[A-Za-z0-9_.-]+/);
    expect(link, mail.text).not.toBeNull();
    return link![0];
  };
  const card = (title: string) => page.locator('article', { hasText: title });

  // Elsewhere than the recipient's signed-in browser (here: a browser signed in as nobody), the
  // link asks first; its button marks the item read and goes on to the item.
  const first = await openLink('Invoice 2031-001 is ready');
  const stranger = await browser.newContext();
  const elsewhere = await stranger.newPage();
  await elsewhere.goto(first);
  await expect(elsewhere.getByText('Open “Invoice 2031-001 is ready” and mark it as read?')).toBeVisible();
  await elsewhere.getByRole('button', { name: 'Open' }).click();
  await expect(elsewhere).toHaveURL(/\/sign-in$/);
  await stranger.close();

  // In the recipient's own browser the link opens the item at once.
  const second = await openLink('Invoice 2031-002 is ready');
  await signIn(page, 'finance@contoso.test');
  await page.goto(second);
  await expect(page).toHaveURL(/\/action-center\/notifications$/);
  await expectHydrated(page);
  for (const title of ['Invoice 2031-001 is ready', 'Invoice 2031-002 is ready']) {
    await expect(card(title)).toBeVisible();
    await expect(card(title).getByRole('button', { name: 'Mark as read' })).toHaveCount(0);
  }
});
