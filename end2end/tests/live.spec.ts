import { signIn, badge, expectHydrated } from './helpers';
import { expect, test, type APIRequestContext } from '@playwright/test';

const KEY = 'demo-platform-key';


async function publish(request: APIRequestContext, title: string, extra: Record<string, string> = {}) {
  const res = await request.post('/api/v1/items', {
    headers: { Authorization: `Bearer ${KEY}` },
    data: {
      kind: 'action',
      category: 'mandatory',
      org_id: 'contoso',
      workspace: 'billing',
      audience: { roles: ['billing_admin'], user_ids: [] },
      title: { en: title },
      due_at: '2030-06-30T12:00:00Z',
      ...extra,
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).id as string;
}

test('a publish through the API raises the badge in an open page without a reload', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  const initial = Number(await badge(page).textContent());
  expect(initial).toBeGreaterThan(0);
  // A reload would lose this marker.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  const id = await publish(request, 'Sign the new billing terms');
  await expect(badge(page)).toHaveText(String(initial + 1));
  await expect(page.getByTestId('badge-announcement')).toHaveText(`${initial + 1} pending actions`);

  const done = await request.post(`/api/v1/items/${id}/complete`, { headers: { Authorization: `Bearer ${KEY}` } });
  expect(done.status()).toBe(200);
  await expect(badge(page)).toHaveText(String(initial));
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
});

test('users without the role see no change', async ({ page, request }) => {
  await signIn(page, 'dev@contoso.test');
  const before = await badge(page).textContent();
  await publish(request, 'Only for billing admins');
  await page.waitForTimeout(1500);
  await expect(badge(page)).toHaveText(before ?? '');
});

test('without the stream the badge still updates, by polling', async ({ page, request }) => {
  await page.route('**/api/live*', (route) => route.fulfill({ status: 503, body: 'unavailable' }));
  await signIn(page, 'finance@contoso.test');
  const initial = Number(await badge(page).textContent());
  await publish(request, 'Polled into view');
  await expect(badge(page)).toHaveText(String(initial + 1), { timeout: 20_000 });
});

test('a publish shows up in the open list, and boxes ticked there stay ticked', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  const box = page.getByRole('checkbox', { name: 'Select Update your tax profile' });
  await box.check();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  await publish(request, 'Approve the quarterly statement');
  await expect(page.getByRole('heading', { name: 'Approve the quarterly statement' })).toBeVisible();
  await expect(box).toBeChecked();
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);
});

test('keyboard focus in the list stays on its control when the list changes live', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  const archive = page.getByRole('article', { name: 'Update your tax profile' }).getByRole('button', { name: 'Archive' });
  await archive.focus();
  await publish(request, 'Confirm the bank details');
  await expect(page.getByRole('heading', { name: 'Confirm the bank details' })).toBeVisible();
  await expect(archive).toBeFocused();

  // When the focused item itself leaves the list, focus stays in the list.
  const id = await publish(request, 'Leaves while focused', { link: '/action-center' });
  const leaving = page.getByRole('article', { name: 'Leaves while focused' }).getByRole('link');
  await leaving.focus();
  const done = await request.post(`/api/v1/items/${id}/complete`, { headers: { Authorization: `Bearer ${KEY}` } });
  expect(done.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Leaves while focused' })).toHaveCount(0);
  expect(await page.evaluate(() => document.activeElement?.closest('#item-list') !== null)).toBe(true);
});

test('a producer renames, moves and then withdraws an item: the open list and the badge follow live', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  const initial = Number(await badge(page).textContent());
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 29));
  const id = await publish(request, 'Check the payout account');
  await expect(badge(page)).toHaveText(String(initial + 1));
  const patch = (data: Record<string, unknown>) =>
    request.patch(`/api/v1/items/${id}`, { headers: { Authorization: `Bearer ${KEY}` }, data });

  const renamed = await patch({ title: { en: 'Confirm the payout account' }, due_at: '2026-01-02T09:00:00Z' });
  expect(renamed.status()).toBe(200);
  const item = page.getByRole('article', { name: 'Confirm the payout account' });
  await expect(item).toBeVisible();
  await expect(item.getByTestId('overdue')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Check the payout account' })).toHaveCount(0);

  // An expiry that has come: the item leaves the list and the badge within the lifecycle's pass.
  const withdrawn = await patch({ expires_at: new Date(Date.now() - 1000).toISOString() });
  expect(withdrawn.status()).toBe(200);
  await expect(item).toHaveCount(0);
  await expect(badge(page)).toHaveText(String(initial));
  const shown = await request.get(`/api/v1/items/${id}`, { headers: { Authorization: `Bearer ${KEY}` } });
  expect((await shown.json()).status).toBe('expired');
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(29);
});

test('a change made between the render and the stream opening still reaches the open list', async ({ page, request }) => {
  await signIn(page, 'finance@contoso.test');
  // The page's stream is held back until the publish is done, as on a slow network.
  let release = () => {};
  const published = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/live*', async (route) => {
    await published;
    await route.continue();
  });
  await page.goto('/action-center/actions');
  await expectHydrated(page);
  const initial = Number(await badge(page).textContent());
  await publish(request, 'Confirm the direct debit mandate', { due_at: '2026-01-03T09:00:00Z' });
  release();
  // The stream starts where the page was rendered, so it replays the publish.
  await expect(page.getByRole('article', { name: 'Confirm the direct debit mandate' })).toBeVisible();
  await expect(badge(page)).toHaveText(String(initial + 1));
});
