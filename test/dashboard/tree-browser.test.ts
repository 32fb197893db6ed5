// A parent with its sub-issues, triage markers and "needs you" for a clarification and a stuck
// tree, in a real browser (Debian's Chromium via playwright-core; AWF_SKIP_BROWSER=1 skips it).
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { uniquePrefix } from "../helpers/redis.js";
import { seedTree } from "./tree-seed.js";

const CHROMIUM = "/usr/bin/chromium";
const SKIP = process.env.AWF_SKIP_BROWSER === "1";
const SCREENSHOT = path.resolve("test/artifacts/dashboard-tree.png");
const TOKEN = "s3cret";

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = "";

describe.skipIf(SKIP)("dashboard tree in Chromium", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\`, or set AWF_SKIP_BROWSER=1`);
    t = await startTestApp({ ADMIN_TOKEN: TOKEN, REDIS_PREFIX: uniquePrefix("tree-browser") });
    await seedTree(t.deps.tasks);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("groups sub-issues under their parent, marks verdicts, and lists what needs a person", async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${base}/?token=${TOKEN}`);
    await page.waitForSelector("#live-status.on", { timeout: 5_000 });

    const rows = await page.locator("#tasks tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-issue")));
    const at = rows.indexOf("p");
    expect(rows.slice(at, at + 5)).toEqual(["p", "c-s1", "c-s2", "c-s3", "c-s4"]);
    const parent = page.locator('tr[data-issue="p"]');
    expect(await parent.locator(".badge").innerText()).toBe("Needs you");
    expect(await parent.locator(".detail").innerText()).toContain("2 of 4 sub-issues merged");
    expect(await parent.locator(".verdict").innerText()).toBe("split · 4 sub-issues · 2 criteria");
    expect(await page.locator('tr[data-issue="c-s3"] .part-of').innerText()).toBe("part of P");
    expect(await page.locator('tr[data-issue="c-s3"] .part-of').getAttribute("title")).toContain("1400 tokens received");
    expect(await page.locator('tr[data-issue="c-s1"] .verdict').getAttribute("title")).toContain("A clear, bounded change <in one route>.");
    // Children are indented under the parent.
    const parentX = (await parent.locator(".id").boundingBox())!.x;
    expect((await page.locator('tr[data-issue="c-s1"] .id').boundingBox())!.x).toBeGreaterThan(parentX);

    const needs = await page.locator("#needs-you li").evaluateAll((lis) => lis.map((li) => [li.getAttribute("data-issue"), li.querySelector(".what")?.textContent]));
    expect(needs).toEqual([
      ["q", "Question"],
      ["c-s4", "Failed"],
      ["p", "Sub-issues"],
    ]);
    expect(await page.locator('#needs-you li[data-issue="q"] .why').innerText()).toBe("Triage asks: Which currency do refunds use?");
    // 600 + 600 + 1400 + 600 = 3,200 of 4,200 + 2 × 20,000 + 8,000 = 52,200 input tokens.
    expect(await page.locator('[data-figure="state-transfer"] .v').innerText()).toBe("6%");
    expect(await page.locator('[data-figure="state-transfer"] .n').innerText()).toBe("3.2k of 52.2k input tokens");

    // The failed child retried: the parent is calm again, live.
    await t!.deps.tasks.update("c-s4", () => ({ state: "queued", error: null }));
    await page.waitForSelector('#needs-you li[data-issue="p"]', { state: "detached", timeout: 5_000 });
    expect(await parent.locator(".badge").innerText()).toBe("Managing");

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
