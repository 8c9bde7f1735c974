import { signIn, item, expectHydrated } from './helpers';
import { expect, test, type Page } from '@playwright/test';


function bell(page: Page) {
  return page.getByRole('button', { name: 'Notifications' });
}

async function badgeCount(page: Page) {
  return Number(await bell(page).getByTestId('badge').textContent());
}

test.describe.configure({ mode: 'serial' });

test('the badge counts the pending actions and the bell lists them in order', async ({ page }, info) => {
  await signIn(page, 'admin@contoso.test');
  const badge = await badgeCount(page);
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page).toHaveURL(/\/action-center\/actions$/);
  await expect(page.getByTestId('item')).toHaveCount(badge);

  await bell(page).click();
  await expect(bell(page)).toHaveAttribute('aria-expanded', 'true');
  const pane = page.locator('#bell-pane');
  await expect(pane.getByRole('link', { name: 'Go to Action Center' })).toBeVisible();
  // The pane's content is fetched as it first opens.
  await expect(pane.getByTestId('bell-actions').getByRole('listitem')).toHaveCount(5);
  await expect(pane.getByRole('link', { name: 'My preferences' })).toBeVisible();
  const titles = await pane.getByTestId('bell-actions').getByRole('listitem').getByRole('link').allTextContents();
  // Overdue first, then mandatory before recommended, then by due date.
  // The overdue payout details were escalated to the account admin (a recommendation due in 3 days).
  expect(titles).toEqual([
    'Confirm your payout bank details',
    'Complete your account verification',
    'Overdue and not done: “Confirm your payout bank details”',
    'Update your tax profile',
    'Add screenshots to your offer listing',
  ]);
  await expect(pane.getByTestId('bell-notifications').getByRole('listitem')).not.toHaveCount(0);
  await page.screenshot({ path: info.outputPath('bell-open.png'), fullPage: true });
});

test('the bell works by keyboard alone', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Notifications') break;
  }
  await expect(bell(page)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#bell-pane')).toBeVisible();
  await page.keyboard.press('Tab');
  const inPane = await page.evaluate(() => !!document.activeElement?.closest('#bell-pane'));
  expect(inPane).toBe(true);
  await page.keyboard.press('Escape');
  await expect(page.locator('#bell-pane')).toBeHidden();
  await expect(bell(page)).toBeFocused();
  await expect(bell(page)).toHaveAttribute('aria-expanded', 'false');
});

test('a mandatory action offers no Archive; a recommended one archives at once and comes back', async ({ page }, info) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  await expect(item(page, 'Complete your account verification')).toBeVisible();
  await expect(item(page, 'Complete your account verification').getByRole('button', { name: 'Archive' })).toHaveCount(0);
  await expect(item(page, 'Confirm your payout bank details').getByTestId('overdue')).toHaveText('Overdue');
  await page.screenshot({ path: info.outputPath('actions.png'), fullPage: true });

  const before = await badgeCount(page);
  await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Archive' }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
  await expect(bell(page).getByTestId('badge')).toHaveText(String(before - 1));
  // The page stays where it was, and the keyboard goes on from the list, not from the top.
  await expect(page).toHaveURL(/\/action-center\/actions$/);
  expect(await page.evaluate(() => document.activeElement?.closest('#item-list') !== null)).toBe(true);

  await page.getByRole('link', { name: 'Archived' }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toBeVisible();
  await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Unarchive' }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
  await expect(page).toHaveURL(/\/action-center\/archived$/);
  await expect(bell(page).getByTestId('badge')).toHaveText(String(before));
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(item(page, 'Add screenshots to your offer listing')).toBeVisible();
});

test('a refused archive changes nothing and says why', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/actions');
  const before = await badgeCount(page);
  // A forged form: the tax profile's Archive button, aimed at the mandatory verification.
  const verify = item(page, 'Complete your account verification');
  const id = (await verify.getByRole('heading').getAttribute('id'))!.replace(/^item-/, '');
  const tax = item(page, 'Update your tax profile');
  const archiveForm = tax.locator('form').filter({ has: page.getByRole('button', { name: 'Archive', exact: true }) });
  await archiveForm.locator('input[name="item_id"]').evaluate((input, id) => ((input as HTMLInputElement).value = id), id);
  await tax.getByRole('button', { name: 'Archive' }).click();
  await expect(page.getByRole('alert')).toContainText('Could not archive');
  await expect(page.getByRole('alert')).toContainText('A mandatory action cannot be archived.');
  await expect(verify).toBeVisible();
  await expect(tax).toBeVisible();
  await expect(bell(page).getByTestId('badge')).toHaveText(String(before));
});

test('filters narrow the list and live in the URL', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/actions?category=mandatory');
  await expectHydrated(page);
  await expect(page.getByTestId('item')).toHaveCount(2);
  for (const chip of await page.getByTestId('category').allTextContents()) expect(chip).toBe('Mandatory');
  await page.getByLabel('Workspace').selectOption('billing');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/category=mandatory/);
  await expect(page).toHaveURL(/workspace=billing/);
  await expect(page.getByTestId('item')).toHaveCount(1);
  await expect(page.getByTestId('workspace')).toHaveText(['Billing']);
  await page.reload();
  await expect(page.getByTestId('item')).toHaveCount(1);
  await expect(page.getByLabel('Workspace')).toHaveValue('billing');
  await page.getByLabel('Category').selectOption('');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).not.toHaveURL(/category=mandatory/);
  await expect(page.getByLabel('Category')).toHaveValue('');
  await page.goto('/action-center/notifications?workspace=customers');
  await expect(page.getByTestId('empty')).toBeVisible();
});

test('the overview shows counts, next due actions and recent notifications', async ({ page }, info) => {
  await signIn(page, 'admin@contoso.test');
  await expect(page.getByRole('heading', { name: 'At a glance' })).toBeVisible();
  await expect(page.getByTestId('count-mandatory')).toHaveText('2');
  await expect(page.getByTestId('count-overdue')).toHaveText('1');
  await expect(page.getByRole('heading', { name: 'Next due actions' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Recent notifications' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('overview.png'), fullPage: true });
});

test('first-run setup comes first for a new user', async ({ page }, info) => {
  await signIn(page, 'new@contoso.test');
  await expect(page).toHaveURL(/\/setup$/);
  await page.goto('/action-center/actions');
  await expect(page).toHaveURL(/\/setup$/);
  await expectHydrated(page);
  await expect(page.getByLabel('Notification email')).toHaveValue('new@contoso.test');
  // The defaults: everything on, action email and in-app notifications locked on.
  for (const name of ['In-app notifications', 'Mandatory actions', 'Recommended actions']) {
    await expect(page.getByRole('switch', { name })).toBeChecked();
    await expect(page.getByRole('switch', { name })).toBeDisabled();
  }
  for (const name of ['Transactional notifications', 'Promotional notifications', 'Billing']) {
    await expect(page.getByRole('switch', { name })).toBeChecked();
    await expect(page.getByRole('switch', { name })).toBeEnabled();
  }
  await page.screenshot({ path: info.outputPath('setup.png'), fullPage: true });
  await page.getByLabel('Job function').fill('Partner manager');
  await page.getByLabel('Email language').selectOption('nl');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/action-center$/);
  await page.reload();
  await expect(page).toHaveURL(/\/action-center$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Action Center' })).toBeVisible();
});

test('the UI speaks Dutch, and remembers it', async ({ page }, info) => {
  await signIn(page, 'admin@contoso.test');
  await page.getByLabel('Language').selectOption('nl');
  await expect(page.getByRole('heading', { level: 1, name: 'Actiecentrum' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Overzicht' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Meldingen' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Actiecentrum' })).toBeVisible();
  // Item text follows the UI language too.
  await expect(page.getByRole('heading', { name: 'Bevestig uw bankgegevens voor uitbetalingen', exact: true })).toBeVisible();
  await page.screenshot({ path: info.outputPath('dutch.png'), fullPage: true });
  await page.getByLabel('Taal').selectOption('en');
  await expect(page.getByRole('heading', { level: 1, name: 'Action Center' })).toBeVisible();
});

test.describe('a Dutch browser', () => {
  test.use({ locale: 'nl-NL' });
  test('gets the Dutch UI from the start', async ({ page }) => {
    await page.goto('/sign-in');
    await expect(page.getByRole('heading', { name: 'Aanmelden' })).toBeVisible();
  });
});

test.describe('on a 360 px phone', () => {
  test.use({ viewport: { width: 360, height: 740 } });
  test('the Action Center fits', async ({ page }, info) => {
    await signIn(page, 'admin@contoso.test');
    await page.goto('/action-center/actions');
    await expect(page.getByTestId('item').first()).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: info.outputPath('phone.png'), fullPage: true });
  });
});

test('bulk archive of selected notifications', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await page.goto('/action-center/notifications');
  await expectHydrated(page);
  const count = await page.getByTestId('item').count();
  expect(count).toBeGreaterThanOrEqual(2);
  await page.getByRole('checkbox', { name: 'Select Your offer was published to the marketplace' }).check();
  await page.getByRole('checkbox', { name: 'Select A customer accepted your referral' }).check();
  await page.getByRole('button', { name: 'Archive selected' }).click();
  await expect(page.getByTestId('item')).toHaveCount(count - 2);
  await page.reload();
  await expect(page.getByTestId('item')).toHaveCount(count - 2);
});

test('opening a notification marks it read', async ({ page }) => {
  await signIn(page, 'finance@contoso.test');
  const unread = Number(await page.getByTestId('count-unread').textContent());
  expect(unread).toBeGreaterThan(0);
  await page.getByRole('link', { name: 'Notifications', exact: true }).click();
  const note = page.getByRole('article').filter({ has: page.getByRole('heading', { name: 'New incentive programme for cloud partners' }) });
  await expect(note).toContainText('Unread');
  await note.getByRole('link', { name: 'New incentive programme for cloud partners' }).click();
  await expect(page).toHaveURL(/\/action-center$/);
  await expect(page.getByTestId('count-unread')).toHaveText(String(unread - 1));
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });
  test('the bell opens as a page and Archive still works', async ({ page }) => {
    await page.goto('/sign-in');
    await page.getByLabel('Email').fill('admin@contoso.test');
    await page.getByLabel('Password').fill('actioncenter');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/action-center$/);
    const before = await badgeCount(page);

    await bell(page).click();
    await expect(page).toHaveURL(/\/bell\??$/);
    await expect(page.getByTestId('bell-actions').getByRole('listitem')).toHaveCount(before);

    await page.goto('/action-center/actions');
    await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Archive' }).click();
    await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
    await expect(bell(page).getByTestId('badge')).toHaveText(String(before - 1));
    await page.goto('/action-center/archived');
    await item(page, 'Add screenshots to your offer listing').getByRole('button', { name: 'Unarchive' }).click();
    await expect(item(page, 'Add screenshots to your offer listing')).toHaveCount(0);
    await expect(bell(page).getByTestId('badge')).toHaveText(String(before));
  });
});

test.describe('in Tokyo', () => {
  test.use({ timezoneId: 'Asia/Tokyo' });
  test('dates come as UTC from the server and in the reader\'s time zone and language once hydrated', async ({ page }) => {
    await signIn(page, 'admin@contoso.test');
    await page.goto('/action-center/actions');
    await expectHydrated(page);
    const due = page.getByTestId('item').locator('time').first();
    const datetime = await due.getAttribute('datetime');
    expect(datetime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    // What Intl makes of it in this browser: English (the UI language), Tokyo time.
    const local = await page.evaluate(
      (at) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at!)),
      datetime,
    );
    await expect(due).toHaveText(local);
    await expect(due).not.toContainText('UTC');
    // The same instant nine hours later on the clock than in UTC.
    const utcHour = Number(datetime!.slice(11, 13));
    const tokyoHour = (utcHour + 9) % 24;
    expect(local).toContain(`${tokyoHour % 12 || 12}:${datetime!.slice(14, 16)}`);
  });
});
