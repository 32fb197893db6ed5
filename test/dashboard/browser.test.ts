// The dashboard in a real browser: Debian's Chromium driven by playwright-core. Without
// /usr/bin/chromium this test fails (install it: `apt-get install -y chromium`); only an explicit
// AWF_SKIP_BROWSER=1 skips it.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { uniquePrefix } from "../helpers/redis.js";
import { seedTask, seedWorkforce } from "./seed.js";

const CHROMIUM = "/usr/bin/chromium";
const SKIP = process.env.AWF_SKIP_BROWSER === "1";
const SCREENSHOT = path.resolve("test/artifacts/dashboard.png");
const TOKEN = "s3cret";

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = "";

describe.skipIf(SKIP)("dashboard in Chromium", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\`, or set AWF_SKIP_BROWSER=1 to skip the browser test`,
      );
    }
    t = await startTestApp({ ADMIN_TOKEN: TOKEN, AGENT_DAILY_BUDGET_USD: "10", REDIS_PREFIX: uniquePrefix("browser") });
    await seedWorkforce(t.deps.tasks);
    await seedTask(
      t.deps.tasks,
      {
        id: "eng-6",
        title: "Migrate the billing cron to the job runner",
        state: "pr-open",
        patch: {
          step: "draft pull request open",
          turns: 60,
          costUsd: 5.02,
          usage: { input: 90_000, output: 31_000, cacheRead: 1_900_000, cacheWrite: 120_000 },
          error: "The agent stopped after spending its budget (AGENT_BUDGET_USD); the work may be incomplete.",
        },
      },
      44,
    );
    await t.deps.spend.add(3.2);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows figures, needs-you and every task, and updates rows live without a reload", async () => {
    const tasks = t!.deps.tasks;
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });

    // Signing in with ?token= leaves a cookie and a clean URL.
    await page.goto(`${base}/?token=${TOKEN}`);
    expect(new URL(page.url()).search).toBe("");
    await page.waitForSelector("#live-status.on", { timeout: 5_000 });

    expect(await page.locator("#tasks tbody tr").count()).toBe(6);
    expect(await page.locator('tr[data-issue="eng-1"] .badge').innerText()).toBe("Queued · #2");
    expect(await page.locator('tr[data-issue="eng-2"] .detail').innerText()).toContain("turn 7");
    // The model call in flight ticks in the page between task events; the context trimming shows by the turns.
    const ticker = page.locator('tr[data-issue="eng-2"] .turn-live .ticker');
    const before = await ticker.innerText();
    expect(await page.locator('tr[data-issue="eng-2"] .turn-live').innerText()).toMatch(/^model turn in progress · 1m 3\ds$/);
    await expect.poll(() => ticker.innerText(), { timeout: 3_000 }).not.toBe(before);
    expect(await page.locator('tr[data-issue="eng-2"] [data-context]').innerText()).toBe("1 compaction · 2 clearings");
    expect(await page.locator('tr[data-issue="eng-4"] .issue').innerText()).toContain("<script>alert(1)</script> in the title");
    expect(await page.locator('[data-figure="spend-today"]').innerText()).toContain("$3.20");
    expect(await page.locator('[data-figure="spend-today"]').innerText()).toContain("of $10.00 a day");
    expect(await page.locator('[data-figure="merge-rate"] .v').innerText()).toBe("100%");

    // "Needs you" is above the table: the failure, the PR awaiting review, then the budget stop.
    const needsBox = await page.locator("#needs-you").boundingBox();
    const tableBox = await page.locator("#tasks").boundingBox();
    expect(needsBox!.y).toBeLessThan(tableBox!.y);
    expect(await page.locator("#needs-you li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-issue")))).toEqual([
      "eng-4",
      "eng-3",
      "eng-6",
    ]);

    // Live: tasks move and a new one arrives; the page updates without reloading.
    await page.evaluate("window.__sameDocument = true");
    expect(await page.locator('[data-figure="active"] .v').innerText()).toBe("1");
    await tasks.update("eng-2", () => ({ state: "checking", step: "running `npm test`" }));
    await page.waitForSelector('tr[data-issue="eng-2"][data-state="checking"]', { timeout: 5_000 });
    expect(await page.locator('tr[data-issue="eng-2"] .badge').innerText()).toBe("Checks");
    expect(await page.locator('tr[data-issue="eng-2"] .detail').innerText()).toBe("running `npm test`");
    expect(await page.locator('tr[data-issue="eng-2"] .turn-live').count()).toBe(0);

    await tasks.update("eng-1", () => ({
      state: "working",
      step: "turn 1: str_replace_based_edit_tool",
      turns: 1,
      startedAt: new Date().toISOString(),
    }));
    await page.waitForSelector('tr[data-issue="eng-1"][data-state="working"]', { timeout: 5_000 });
    expect(await page.locator('[data-figure="active"] .v').innerText()).toBe("2");

    await tasks.update("eng-4", () => ({ state: "queued", error: null, step: "reading the issue" }));
    await page.waitForSelector('#needs-you li[data-issue="eng-4"]', { state: "detached", timeout: 5_000 });
    await tasks.update("eng-4", () => ({ state: "failed", error: "Bad credentials: GITHUB_TOKEN was refused <b>401</b>" }));
    await page.waitForSelector('#needs-you li[data-issue="eng-4"]', { timeout: 5_000 });

    await tasks.ensure({ issueId: "eng-8", identifier: "ENG-8", title: "Brand new issue", issueUrl: null });
    await page.waitForSelector('tr[data-issue="eng-8"]', { timeout: 5_000 });
    expect(await page.locator("#tasks tbody tr").count()).toBe(7);
    expect(await page.evaluate("window.__sameDocument === true")).toBe(true);

    // The state filter reloads the page with ?state=, keeping the session cookie.
    await Promise.all([page.waitForURL(/state=failed/), page.selectOption('select[name="state"]', "failed")]);
    expect(await page.locator("#tasks tbody tr").count()).toBe(1);
    await Promise.all([page.waitForURL((u) => !u.search.includes("state=")), page.selectOption('select[name="state"]', "")]);

    await page.waitForSelector("#live-status.on", { timeout: 5_000 });
    await page.waitForTimeout(300);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("opens Bull Board with the same session cookie", async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/admin/queues`);
    expect(await page.locator("body").innerText()).toContain("Admin token required");
    const failed: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}/admin/queues?token=${TOKEN}`);
    expect(new URL(page.url()).pathname).toBe("/admin/queues");
    for (const name of ["implement", "feedback", "revise", "lifecycle", "reconcile"]) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 10_000 });
    }
    await page.waitForLoadState("networkidle");
    expect(failed).toEqual([]);
    await page.screenshot({ path: path.join(path.dirname(SCREENSHOT), "queues.png") });
    await context.close();
  }, 60_000);
});
