import { expect, type Page } from '@playwright/test';

/** Signs in with the demo password and waits until the page is interactive. */
export async function signIn(page: Page, email: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('actioncenter');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}
