import { signIn, mark, expectNoDocumentLoad, expectHydrated } from './helpers';
import { expect, test } from '@playwright/test';

// My preferences' email schedule: time zone, quiet hours and digests, saved in the page.
// Fabrikam's admin, whose email no other spec reads; the test puts the schedule back.

test('the email schedule saves in the page, is refused in words, and is kept', async ({ page }) => {
  await signIn(page, 'admin@fabrikam.test');
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.getByRole('link', { name: 'My preferences' }).click();
  const schedule = page.getByRole('region', { name: 'When email arrives' });
  await expect(schedule.getByLabel('Time zone')).toBeVisible();
  await mark(page);

  await schedule.getByLabel('Time zone').selectOption('Europe/Amsterdam');
  await schedule.getByLabel('From').selectOption('22');
  await schedule.getByLabel('Until').selectOption('7');
  await schedule.getByLabel('Transactional email').selectOption('daily');
  await schedule.getByLabel('Promotional email').selectOption('weekly');
  await schedule.getByRole('button', { name: 'Save email schedule' }).click();
  await expect(schedule.getByRole('status')).toHaveText('Saved.');

  // Quiet from 07:00 until 07:00 is no window: refused, and said why.
  await schedule.getByLabel('From').selectOption('7');
  await schedule.getByRole('button', { name: 'Save email schedule' }).click();
  await expect(schedule.getByRole('alert')).toHaveText('Quiet hours need a start and an end hour (0 to 23) that differ.');
  await expectNoDocumentLoad(page);

  await page.reload();
  const kept = page.getByRole('region', { name: 'When email arrives' });
  await expect(kept.getByLabel('Time zone')).toHaveValue('Europe/Amsterdam');
  await expect(kept.getByLabel('From')).toHaveValue('22');
  await expect(kept.getByLabel('Until')).toHaveValue('7');
  await expect(kept.getByLabel('Transactional email')).toHaveValue('daily');
  await expect(kept.getByLabel('Promotional email')).toHaveValue('weekly');

  // Back to everything at once, at any hour.
  await kept.getByLabel('From').selectOption('');
  await kept.getByLabel('Until').selectOption('');
  await kept.getByLabel('Transactional email').selectOption('immediate');
  await kept.getByLabel('Promotional email').selectOption('immediate');
  await kept.getByRole('button', { name: 'Save email schedule' }).click();
  await expect(kept.getByRole('status')).toHaveText('Saved.');
});

test.describe('a browser in Tokyo', () => {
  test.use({ timezoneId: 'Asia/Tokyo' });

  test('someone who never chose starts from the browser time zone', async ({ page }) => {
    await signIn(page, 'dev@contoso.test');
    await page.goto('/preferences');
    await expectHydrated(page);
    const schedule = page.getByRole('region', { name: 'When email arrives' });
    await expect(schedule.getByLabel('Time zone')).toHaveValue('Asia/Tokyo');
  });
});
