// 1,000 tasks on the page in a real browser (Debian's Chromium via playwright-core;
// AWF_SKIP_BROWSER=1 skips it): a task changes state and the page shows it from the delta alone,
// without reloading and without fetching the table again.
import { existsSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { uniquePrefix } from "../helpers/redis.js";
import { seedMany } from "./seed.js";

const CHROMIUM = "/usr/bin/chromium";
const SKIP = process.env.AWF_SKIP_BROWSER === "1";

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = "";
/** GET / requests the server answered (the page, or a refetch of its table). */
let pageLoads = 0;

describe.skipIf(SKIP)("dashboard live updates with 1,000 tasks", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\`, or set AWF_SKIP_BROWSER=1`);
    t = await startTestApp({ REDIS_PREFIX: uniquePrefix("live-browser") });
    await seedMany(t.deps.tasks, 1000);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    t.app.server.on("request", (req: IncomingMessage) => {
      if (req.method === "GET" && new URL(req.url ?? "/", "http://x").pathname === "/") pageLoads += 1;
    });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("applies a task's change in place: same document, no refetch of the table", async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(base);
    await page.waitForSelector("#live-status.on", { timeout: 10_000 });
    expect(await page.locator("#tasks tbody tr").count()).toBe(1000);
    expect(pageLoads).toBe(1);
    await page.evaluate("window.__sameDocument = true");

    // bulk-8 is working (the seed cycles states); it moves to checks and, updated last, to the top.
    const row = page.locator('tr[data-issue="bulk-8"]');
    expect(await row.getAttribute("data-state")).toBe("working");
    const active = await page.locator('[data-figure="active"] .v').innerText();
    await t!.deps.tasks.update("bulk-8", () => ({ state: "failed", error: "The checks failed: 3 tests" }));
    await page.waitForSelector('tr[data-issue="bulk-8"][data-state="failed"]', { timeout: 5_000 });
    expect(await row.locator(".badge").innerText()).toBe("Failed");
    expect(await page.locator("#tasks tbody tr").first().getAttribute("data-issue")).toBe("bulk-8");
    expect(await page.locator("#tasks tbody tr").count()).toBe(1000);
    expect(Number(await page.locator('[data-figure="active"] .v').innerText())).toBe(Number(active) - 1);
    expect(await page.locator('#needs-you li[data-issue="bulk-8"] .why').innerText()).toBe("The checks failed: 3 tests");

    // A burst: every change lands, in order, still without a refetch.
    for (let i = 0; i < 20; i++) await t!.deps.tasks.update("bulk-16", () => ({ step: `turn ${i + 1}: bash`, turns: i + 1 }));
    await expect.poll(() => page.locator('tr[data-issue="bulk-16"] .detail').innerText(), { timeout: 5_000 }).toContain("turn 20: bash");
    expect(await page.locator("#tasks tbody tr").first().getAttribute("data-issue")).toBe("bulk-16");
    expect(await page.locator("#tasks tbody tr").nth(1).getAttribute("data-issue")).toBe("bulk-8");

    expect(await page.evaluate("window.__sameDocument === true")).toBe(true);
    expect(pageLoads).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
