import { signIn, mark, expectNoDocumentLoad, item, badge } from './helpers';
import { expect, test, type APIRequestContext, type Locator, type Page } from '@playwright/test';

// Triage in the page: search, "Unread only", "Mark all read" and "Archive all" on the list as
// filtered, and the keyboard shortcuts. Fabrikam's admin, so the other specs' items stay apart.

const KEY = 'demo-platform-key';

async function publish(request: APIRequestContext, category: string, title: string, due_at?: string): Promise<string> {
  const action = category === 'mandatory' || category === 'recommended';
  const res = await request.post('/api/v1/items', {
    headers: { Authorization: `Bearer ${KEY}` },
    data: {
      kind: action ? 'action' : 'notification',
      category,
      org_id: 'fabrikam',
      workspace: 'billing',
      audience: { roles: ['account_admin'], user_ids: [] },
      title: { en: title, nl: `NL ${title}` },
      ...(due_at ? { due_at } : {}),
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).id as string;
}

function listed(page: Page): Locator {
  return page.getByTestId('item-list').getByRole('article');
}

/** Searches the list with the keyboard: "/" goes to the field. */
async function search(page: Page, query: string) {
  await page.keyboard.press('/');
  const field = page.getByRole('searchbox', { name: 'Search' });
  await expect(field).toBeFocused();
  await field.fill(query);
  await field.press('Enter');
  await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(query)}`));
  // Out of the field, so that letters are shortcuts again.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

test('search, unread only, mark all read and archive all act on the list as filtered', async ({ page, request }) => {
  await publish(request, 'transactional', 'Zephyr quarterly report ready');
  await publish(request, 'promotional', 'Zephyr webinar on Réunion pricing');
  await publish(request, 'transactional', 'Budget approved for next year');
  await signIn(page, 'admin@fabrikam.test');
  await page.getByRole('link', { name: 'Notifications', exact: true }).click();
  await expect(page).toHaveURL(/\/action-center\/notifications$/);
  await mark(page);

  // Without its accent, from the start of a word.
  await search(page, 'reunion');
  await expect(listed(page)).toHaveCount(1);
  await expect(item(page, 'Zephyr webinar on Réunion pricing')).toBeVisible();
  await page.getByRole('button', { name: 'Mark all read' }).click();
  await expect(page.getByTestId('list-status')).toHaveText('Items marked read: 1');
  await expect(item(page, 'Zephyr webinar on Réunion pricing')).not.toContainText('Unread');

  await search(page, 'zephyr');
  await expect(listed(page)).toHaveCount(2);
  await page.getByRole('checkbox', { name: 'Unread only' }).check();
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/unread=1/);
  await expect(listed(page)).toHaveCount(1);
  await expect(item(page, 'Zephyr quarterly report ready')).toContainText('Unread');

  await page.getByRole('checkbox', { name: 'Unread only' }).uncheck();
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(listed(page)).toHaveCount(2);
  await page.getByRole('button', { name: 'Archive all' }).click();
  await expect(page.getByTestId('list-status')).toHaveText('Items archived: 2');
  await expect(page.getByTestId('empty')).toBeVisible();
  // What the search did not find stays.
  await page.getByRole('searchbox', { name: 'Search' }).fill('');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/action-center\/notifications$/);
  await expect(item(page, 'Budget approved for next year')).toBeVisible();
  await page.getByRole('link', { name: 'Archived', exact: true }).click();
  await expect(item(page, 'Zephyr quarterly report ready')).toBeVisible();
  await expectNoDocumentLoad(page);
});

test('j and k move through the list, e archives, ? lists the shortcuts', async ({ page, request }) => {
  await publish(request, 'mandatory', 'Yarrow: accept the terms', '2030-01-01T00:00:00Z');
  await publish(request, 'recommended', 'Yarrow: update your listing', '2030-06-30T00:00:00Z');
  await signIn(page, 'admin@fabrikam.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page).toHaveURL(/\/action-center\/actions$/);
  await mark(page);
  const before = Number(await badge(page).textContent());

  await search(page, 'yarrow');
  await expect(listed(page)).toHaveCount(2);
  const terms = item(page, 'Yarrow: accept the terms');
  const listing = item(page, 'Yarrow: update your listing');
  await page.keyboard.press('j');
  await expect(terms).toBeFocused();
  await page.keyboard.press('j');
  await expect(listing).toBeFocused();
  await page.keyboard.press('j');
  await expect(listing).toBeFocused();
  await page.keyboard.press('k');
  await expect(terms).toBeFocused();
  // A mandatory action has nothing to archive.
  await page.keyboard.press('e');
  await expect(listed(page)).toHaveCount(2);
  await page.keyboard.press('j');
  await page.keyboard.press('e');
  await expect(listing).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before - 1));
  // Focus goes on from the item now at that place.
  await expect(terms).toBeFocused();

  const help = page.getByRole('region', { name: 'Keyboard shortcuts' });
  await expect(help).toBeHidden();
  await page.keyboard.press('?');
  await expect(help).toBeVisible();
  await expect(help).toContainText('Next item');
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
  // Letters typed in the search field stay text.
  await page.keyboard.press('/');
  const field = page.getByRole('searchbox', { name: 'Search' });
  await expect(field).toBeFocused();
  await field.fill('');
  await page.keyboard.type('je');
  await expect(field).toHaveValue('je');
  await expect(terms).toBeVisible();
  await expectNoDocumentLoad(page);
});

test('a snoozed item leaves the list and the badge, and comes back by itself, live', async ({ page, request }) => {
  await publish(request, 'recommended', 'Xylem: review the plan', '2030-03-01T00:00:00Z');
  const brief = await publish(request, 'recommended', 'Xylem: a brief snooze', '2030-03-02T00:00:00Z');
  await signIn(page, 'admin@fabrikam.test');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await expect(page).toHaveURL(/\/action-center\/actions$/);
  await mark(page);
  const before = Number(await badge(page).textContent());

  const plan = item(page, 'Xylem: review the plan');
  await plan.getByRole('combobox', { name: 'Snooze for' }).selectOption({ label: '1 day' });
  await plan.getByRole('button', { name: 'Snooze' }).click();
  await expect(plan).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before - 1));
  // Mandatory actions offer no snooze.
  await expect(item(page, 'Complete your account verification').getByRole('button', { name: 'Snooze' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Archived', exact: true }).click();
  await expect(plan.getByTestId('snoozed')).toContainText('Snoozed until');
  // Unarchiving ends the snooze at once.
  await plan.getByRole('button', { name: 'Unarchive' }).click();
  await expect(plan).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before));

  // A snooze of a few seconds, through the same server function the form posts to.
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  const short = item(page, 'Xylem: a brief snooze');
  await expect(short).toBeVisible();
  const status = await page.evaluate(async ([id, until]) => {
    const res = await fetch('/api/items_snooze', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `item_id=${id}&until=${until}`,
    });
    return res.status;
  }, [brief, String(Date.now() + 4000)]);
  expect(status).toBe(200);
  await expect(short).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(before - 1));
  await expect(short).toBeVisible({ timeout: 15_000 });
  await expect(badge(page)).toHaveText(String(before));
  await expectNoDocumentLoad(page);
});
