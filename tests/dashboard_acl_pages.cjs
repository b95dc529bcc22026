// The dashboard's ACL login form in headless Chromium (run by tests/dashboard_acl.rs with one JSON
// argument: url, modulePath, userDataDir, admin [ak, sk], topic). On the topics page: the header
// shows the login form instead of the admin password; creating a topic before logging in is
// refused; a wrong secret is refused with the broker's message; the admin account logs in, the
// header names it, the topic is created; logging out brings the form back. Prints a JSON summary;
// exits 1 with the reason on any failure. Every wait is bounded.
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
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on("pageerror", e => problems.push("page error: " + e.message));
  const summary = {};
  const statusText = () => page.locator("#status").textContent();

  await page.goto(cfg.url + "/topics", { waitUntil: "load" });
  await page.locator("#acl-login input[name=accessKey]").waitFor();
  summary.passwordBoxGone = (await page.locator("#admin-password").count()) === 0;

  await page.fill("#create-topic input[name=topic]", cfg.topic);
  await page.click("#create-topic button[type=submit]");
  await page.locator("#status.error", { hasText: "log in" }).waitFor();
  summary.beforeLogin = await statusText();

  await page.fill("#acl-login input[name=accessKey]", cfg.admin[0]);
  await page.fill("#acl-login input[name=secretKey]", "wrong-secret");
  await page.click("#acl-login button[type=submit]");
  await page.locator("#status.error", { hasText: "Check signature failed" }).waitFor();
  summary.wrongSecret = await statusText();

  await page.fill("#acl-login input[name=secretKey]", cfg.admin[1]);
  await page.click("#acl-login button[type=submit]");
  await page.locator("#acl-account", { hasText: cfg.admin[0] }).waitFor();
  summary.account = await page.locator("#acl-account").textContent();

  await page.fill("#create-topic input[name=topic]", cfg.topic);
  await page.click("#create-topic button[type=submit]");
  await page.locator("#topic-table tbody tr td", { hasText: new RegExp("^" + cfg.topic + "$") }).first().waitFor();
  summary.created = true;

  await page.click("#acl-logout");
  await page.locator("#acl-login input[name=accessKey]").waitFor();
  summary.loggedOut = true;
  await ctx.close();
  if (problems.length) throw new Error(problems.join("\n"));
  console.log(JSON.stringify(summary));
}

main().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
