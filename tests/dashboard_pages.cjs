// Drives every dashboard page in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core; run by tests/dashboard_pages.rs with one JSON argument). Each page must load
// with no console error, page error or failed request and show live data; the topics page creates
// a topic. Screenshots go to cfg.shotDir. Prints a JSON summary; exits 1 with the reason on any
// failure. Every wait is bounded.
"use strict";

const cfg = JSON.parse(process.argv[2]);
const { chromium } = require(cfg.modulePath);

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function main() {
  const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: "/usr/bin/chromium", headless: true, args: ARGS, viewport: { width: 1360, height: 860 },
  });
  const problems = [];
  const summary = {};
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on("console", m => { if (m.type() === "error") problems.push(page.url() + " console: " + m.text()); });
  page.on("pageerror", e => problems.push(page.url() + " page error: " + e.message));
  page.on("requestfailed", r => problems.push(page.url() + " request failed: " + r.url() + " " + (r.failure() || {}).errorText));
  page.on("response", r => { if (r.status() >= 400) problems.push(page.url() + " HTTP " + r.status() + ": " + r.url()); });
  const open = async path => {
    await page.goto(cfg.url + path, { waitUntil: "load" });
  };
  const rowWith = (table, text) => page.locator(table + " tbody tr", { hasText: text }).first().waitFor();
  const noStatusError = async name => {
    const cls = await page.locator("#status").getAttribute("class");
    if (cls === "error") problems.push(name + " shows an error: " + (await page.locator("#status").textContent()));
  };
  const shot = name => page.screenshot({ path: cfg.shotDir + "/" + name + ".png", fullPage: false });

  // Cluster: the broker row, and the In TPS line rising above the axis (messages are being sent).
  await open("/");
  await rowWith("#broker-table", "broker-a");
  await page.waitForFunction(() => {
    const line = document.querySelector("svg.chart polyline");
    return line && line.getAttribute("points").split(" ").some(p => Number(p.split(",")[1]) < 170);
  }, null, { timeout: 45000 });
  summary.cluster = await page.locator("#broker-table tbody tr").first().innerText();
  await noStatusError("cluster");
  await shot("cluster");

  // Topics: the message topic is listed; a topic created in the page appears in the list.
  await open("/topics");
  await rowWith("#topic-table", cfg.topic);
  await page.fill("#create-topic input[name=topic]", cfg.createTopic);
  await page.click("#create-topic button[type=submit]");
  await page.locator("#topic-table tbody tr td", { hasText: new RegExp("^" + cfg.createTopic + "$") }).first().waitFor();
  const row = page.locator("#topic-table tbody tr", { hasText: cfg.topic }).first();
  await row.getByRole("button", { name: "Send" }).click();
  await page.fill("#detail input[name=body]", "sent from the page");
  await page.click("#detail button[type=submit]");
  await page.locator("#status", { hasText: "SEND_OK" }).waitFor();
  await row.getByRole("button", { name: "Status" }).click();
  await page.locator("#detail table tbody tr").first().waitFor();
  await noStatusError("topics");
  summary.topics = await page.locator("#topic-table tbody tr").count();
  await shot("topics");

  // Groups: the consumer group with its clients and queues.
  await open("/groups");
  await rowWith("#group-table", cfg.group);
  await page.locator("#group-table a", { hasText: cfg.group }).first().click();
  await rowWith("#queue-table", cfg.topic);
  await page.locator("#detail", { hasText: cfg.consumerInstance }).first().waitFor();
  await noStatusError("groups");
  summary.groups = await page.locator("#group-table tbody tr").count();
  await shot("groups");

  // Producers: the live producer group.
  await open("/producers");
  await rowWith("#producer-table", cfg.producerGroup);
  await noStatusError("producers");
  await shot("producers");

  // Messages: by time, then one message's detail.
  await open("/messages");
  await page.fill("#by-time input[name=topic]", cfg.topic);
  await page.click("#by-time button[type=submit]");
  await page.locator("#message-table tbody tr a").first().waitFor();
  summary.messages = await page.locator("#message-table tbody tr").count();
  await page.fill("#by-key input[name=topic]", cfg.topic);
  await page.fill("#by-key input[name=key]", "key7");
  await page.click("#by-key button[type=submit]");
  await page.locator("#results h2", { hasText: "Messages (1)" }).waitFor();
  await page.locator("#message-table tbody tr a").first().click();
  await page.locator("#detail pre.body").waitFor();
  await noStatusError("messages");
  await shot("messages");

  // DLQ: the group's dead-letter query answers (an empty list when nothing was dead-lettered).
  await open("/dlq");
  await page.fill("#dlq-query input[name=group]", cfg.group);
  await page.click("#dlq-query button[type=submit]");
  await rowWith("#dlq-table", "ToDlq");
  summary.dlq = await page.locator("#dlq-table tbody tr").count();
  await page.locator("#dlq-table tbody tr").first().getByRole("button", { name: "Resend" }).click();
  await page.locator("#status", { hasText: "resent" }).waitFor();
  await noStatusError("dlq");
  await shot("dlq");

  // Trace: the traced message's Pub record.
  await open("/trace");
  await page.fill("#trace-query input[name=id]", cfg.traceId);
  await page.click("#trace-query button[type=submit]");
  await rowWith("#trace-table", "Pub");
  await noStatusError("trace");
  await shot("trace");

  await ctx.close();
  if (problems.length) throw new Error("page problems:\n" + problems.join("\n"));
  console.log(JSON.stringify(summary));
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
