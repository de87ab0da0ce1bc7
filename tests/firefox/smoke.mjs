// Firefox smoke test of the dashboard, driven over WebDriver BiDi (no geckodriver needed).
// Usage: node smoke.mjs BASE_URL FIREFOX_PATH. Exits non-zero with a message on the first failure.
import puppeteer from "puppeteer-core";

const [base, executablePath] = process.argv.slice(2);
const browser = await puppeteer.launch({ browser: "firefox", executablePath, headless: true });
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  const text = (selector) => page.$eval(selector, (node) => node.textContent.trim());

  // Journal: rows arrive by polling; the 400 row opens to show the offending field.
  await page.goto(`${base}/__mock/`);
  await page.waitForSelector("#journal-table tr[data-status='400'] button.path", { timeout: 10000 });
  await page.click("#journal-table tr[data-status='400'] button.path");
  await page.waitForSelector("tr.detail pre mark");
  const marked = await text("tr.detail pre mark");
  if (!marked.includes('"port"')) throw new Error(`the 400 row marks ${marked}, not port`);
  const expanded = await page.$eval("#journal-table tr[data-status='400'] button.path", (b) => b.getAttribute("aria-expanded"));
  if (expanded !== "true") throw new Error("aria-expanded did not follow the open row");

  // Scenarios: one click makes forbidden active.
  await page.goto(`${base}/__mock/#scenarios`);
  await page.waitForSelector("article.card[data-scenario='forbidden'] button");
  await page.click("article.card[data-scenario='forbidden'] button");
  await page.waitForFunction(() => document.querySelector("#active-summary").textContent === "forbidden");

  // API docs: the Try-it form sends a request; forbidden answers it.
  await page.goto(`${base}/__mock/#docs`);
  await page.waitForSelector("#try-createSmtpIntegration button[type=submit]");
  await page.click("#try-createSmtpIntegration button[type=submit]");
  await page.waitForSelector("#try-createSmtpIntegration-result .badge");
  const status = await text("#try-createSmtpIntegration-result .badge");
  if (status !== "403") throw new Error(`the docs page got ${status}, not 403`);
  if (errors.length) throw new Error(`the page raised: ${errors.join("; ")}`);
  console.log(JSON.stringify({ ok: true, marked, status, userAgent: await browser.userAgent() }));
} finally {
  await browser.close();
}
