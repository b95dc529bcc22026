// Shared helpers of every dashboard page: API calls, DOM building, tables, SVG line charts.
"use strict";

const pw = document.getElementById("admin-password");
pw.value = sessionStorage.getItem("adminPassword") || "";
pw.addEventListener("change", () => sessionStorage.setItem("adminPassword", pw.value));

// With ACL on, admin actions run as the ACL account logged in here (the session token is kept
// for this tab only); the admin-password box is replaced by a login form.
const aclToken = () => sessionStorage.getItem("aclSession") || "";
async function aclLogin(form) {
  const r = await api("/api/login", "POST", { accessKey: val(form, "accessKey"), secretKey: val(form, "secretKey") });
  sessionStorage.setItem("aclSession", r.token);
  await showLogin();
  status("logged in as " + r.accessKey);
}
async function aclLogout() {
  await api("/api/logout", "POST");
  sessionStorage.removeItem("aclSession");
  await showLogin();
}
async function showLogin() {
  const s = await api("/api/session");
  if (!s.aclEnable) return;
  const box = document.querySelector("header .pw");
  if (s.accessKey) {
    box.replaceChildren("ACL account ", el("b", { id: "acl-account" }, s.accessKey), " ",
      el("button", { type: "button", id: "acl-logout", onclick: () => guarded(aclLogout) }, "Log out"));
    return;
  }
  sessionStorage.removeItem("aclSession");
  const form = el("form", { id: "acl-login", class: "login" },
    el("input", { name: "accessKey", placeholder: "access key", autocomplete: "username", "aria-label": "access key" }),
    el("input", { name: "secretKey", type: "password", placeholder: "secret key", autocomplete: "current-password", "aria-label": "secret key" }),
    el("button", { type: "submit" }, "Log in"));
  form.addEventListener("submit", e => { e.preventDefault(); guarded(() => aclLogin(form)); });
  box.replaceChildren(form);
}
guarded(showLogin);

// Call the JSON API; a non-2xx answer throws an Error with the server's message and code.
async function api(path, method, body) {
  const opts = { method: method || "GET", headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (opts.method !== "GET" && pw.value) opts.headers["X-Admin-Password"] = pw.value;
  if (aclToken()) opts.headers["X-Session"] = aclToken();
  const resp = await fetch(path, opts);
  const data = await resp.json().catch(() => ({ error: "answer is not JSON (HTTP " + resp.status + ")" }));
  if (!resp.ok) {
    let text = data.error || ("HTTP " + resp.status);
    if (data.code !== null && data.code !== undefined) text += " [code " + data.code + "]";
    throw new Error(text);
  }
  return data;
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

// A table of `rows` with `cols` = [[header, row => cell], ...].
function table(cols, rows, id) {
  const t = el("table", id ? { id } : {});
  t.append(el("thead", {}, el("tr", {}, cols.map(([h]) => el("th", {}, h)))));
  const body = el("tbody");
  for (const r of rows) body.append(el("tr", {}, cols.map(([, f]) => el("td", {}, f(r)))));
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: cols.length, class: "empty" }, "none")));
  t.append(body);
  return t;
}

function status(text, isError) {
  const s = document.getElementById("status");
  s.textContent = text || "";
  s.className = isError ? "error" : "";
}

// Run `f`, showing its error in the status line (never an unhandled rejection).
async function guarded(f) {
  try {
    await f();
  } catch (e) {
    status(e.message, true);
  }
}

function section(id, title) {
  let s = document.getElementById(id);
  if (!s) {
    s = el("section", { id });
    document.getElementById("main").append(s);
  }
  s.replaceChildren(el("h2", {}, title));
  return s;
}

const fmtTime = ms => (ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "-");
const fmtNum = n => (Math.round(n * 100) / 100).toLocaleString("en");
function fmtBytes(b) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return fmtNum(b) + " " + u[i];
}

// An SVG line chart of `series` = [{name, points: [[timeMs, value], ...]}].
function lineChart(title, series) {
  const W = 560, H = 200, L = 50, B = 24, NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  const add = (tag, a, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const pts = series.flatMap(s => s.points);
  const now = Date.now();
  const t0 = now - 3600 * 1000;
  const max = Math.max(1, ...pts.map(p => p[1]));
  const x = t => L + ((t - t0) / (now - t0)) * (W - L - 8);
  const y = v => H - B - (v / max) * (H - B - 20);
  add("text", { x: L, y: 14, class: "title" }, title);
  add("line", { x1: L, y1: H - B, x2: W - 8, y2: H - B, class: "axis" });
  add("line", { x1: L, y1: 20, x2: L, y2: H - B, class: "axis" });
  add("text", { x: L - 4, y: 24, class: "tick", "text-anchor": "end" }, fmtNum(max));
  add("text", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }, "0");
  add("text", { x: L, y: H - 6, class: "tick" }, "-60 min");
  add("text", { x: W - 8, y: H - 6, class: "tick", "text-anchor": "end" }, "now");
  series.forEach((s, i) => {
    const d = s.points.filter(p => p[0] >= t0).map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    if (d) add("polyline", { points: d, class: "line c" + (i % 6) });
    add("text", { x: W - 8, y: 14 + 12 * i, class: "legend c" + (i % 6), "text-anchor": "end" }, s.name);
  });
  return svg;
}

// Refresh with `f` now and every `ms` while the page is open.
function every(ms, f) {
  guarded(f);
  setInterval(() => guarded(f), ms);
}

// The value of an input of a form, trimmed.
const val = (form, name) => (form.elements[name].value || "").trim();

// A datetime-local input's value as epoch ms (empty -> fallback).
function timeOf(form, name, fallback) {
  const v = val(form, name);
  return v ? new Date(v).getTime() : fallback;
}
