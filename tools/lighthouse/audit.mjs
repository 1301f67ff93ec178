// Lighthouse (default mobile settings: Moto G Power screen, simulated slow 4G, 4x CPU slowdown) on the pages named on
// standard input, one after the other, in Debian's Chromium (CHROME_PATH), headless and without sandbox.
// Input: [{"name", "url", "session": null | {"origin", "value"}}]; a page with a session gets it in sessionStorage
// (site/js/api.js: "carteselus.session") before the audit, as signing in would leave it. Every audit starts with an
// empty HTTP cache: its weight is the page's first visit. Output: one JSON object per page (scores, weight, metrics).
// Run by scripts/lighthouse.py (make lighthouse).
import { readFileSync } from "node:fs";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const SESSION_KEY = "carteselus.session";
const pages = JSON.parse(readFileSync(0, "utf8"));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update"],
});
const results = [];
try {
  for (const item of pages) {
    const page = await browser.newPage();
    const cdp = await page.createCDPSession();
    if (item.session) {
      // A small file of the site's origin, so that sessionStorage is the origin's; then the session is put there.
      await page.goto(item.session.origin + "/robots.txt");
      await page.evaluate((key, value) => sessionStorage.setItem(key, value), SESSION_KEY, item.session.value);
    }
    await cdp.send("Network.clearBrowserCache");
    // Storage is kept (it holds the session); the cache was just emptied, so this is a first visit all the same.
    const runner = await lighthouse(item.url, {
      output: "json", logLevel: "error", disableStorageReset: true,
      onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
    }, undefined, page);
    const lhr = runner.lhr;
    const score = (id) => Math.round((lhr.categories[id]?.score ?? 0) * 100);
    const failed = (id) => Object.values(lhr.categories[id].auditRefs)
      .map((ref) => lhr.audits[ref.id])
      .filter((audit) => audit.score !== null && audit.score < 1 && audit.scoreDisplayMode !== "informative"
        && audit.scoreDisplayMode !== "notApplicable" && audit.scoreDisplayMode !== "manual")
      .map((audit) => `${audit.id}: ${audit.title}${audit.displayValue ? ` (${audit.displayValue})` : ""}`);
    results.push({
      name: item.name,
      url: item.url,
      final_url: lhr.finalDisplayedUrl,
      scores: { performance: score("performance"), accessibility: score("accessibility"),
        best_practices: score("best-practices"), seo: score("seo") },
      transferred_bytes: lhr.audits["total-byte-weight"].numericValue,
      requests: lhr.audits["network-requests"].details?.items?.length ?? null,
      largest: (lhr.audits["network-requests"].details?.items ?? [])
        .map((request) => ({ path: new URL(request.url).pathname, type: request.resourceType,
          transferred_bytes: request.transferSize }))
        .sort((a, b) => b.transferred_bytes - a.transferred_bytes).slice(0, 8),
      metrics: {
        first_contentful_paint_ms: Math.round(lhr.audits["first-contentful-paint"].numericValue),
        largest_contentful_paint_ms: Math.round(lhr.audits["largest-contentful-paint"].numericValue),
        total_blocking_time_ms: Math.round(lhr.audits["total-blocking-time"].numericValue),
        cumulative_layout_shift: Number(lhr.audits["cumulative-layout-shift"].numericValue.toFixed(3)),
        speed_index_ms: Math.round(lhr.audits["speed-index"].numericValue),
      },
      below_full_marks: { performance: failed("performance"), accessibility: failed("accessibility"),
        best_practices: failed("best-practices") },
      lighthouse: lhr.lighthouseVersion,
      settings: { form_factor: lhr.configSettings.formFactor, throttling: lhr.configSettings.throttlingMethod },
    });
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 2) + "\n");
