import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumLaunchOptions } from './chromium.mjs';

// The release server, on a fresh SQLite database seeded with the demo, on its own port.
const port = Number(process.env.E2E_PORT ?? 3311);
const baseURL = `http://127.0.0.1:${port}`;
// Set once in the runner; the test workers inherit it, so they read the same mail folder.
const dataDir = process.env.E2E_DATA_DIR ?? (process.env.E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'action-center-e2e-')));
const target = process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache/action-center/target');
const bin = process.env.ACTION_CENTER_BIN ?? path.join(target, 'release/action-center');
// Email goes over real SMTP to a loopback sink that writes each message to E2E_MAIL_DIR.
const sinkBin = process.env.SMTP_SINK_BIN ?? path.join(target, 'release/smtp-sink');
const smtpPort = port + 1;
process.env.E2E_MAIL_DIR = path.join(dataDir, 'sink');

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions,
  },
  webServer: [
    {
      command: `"${sinkBin}" 127.0.0.1:${smtpPort} "${process.env.E2E_MAIL_DIR}"`,
      port: smtpPort,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `"${bin}" serve --demo --listen-addr 127.0.0.1:${port}`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(__dirname, '..', 'target', 'site'),
        RUST_LOG: 'warn',
      },
    },
  ],
});
