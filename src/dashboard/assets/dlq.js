// Dead letters of a consumer group (%DLQ%group) in a time range; resend one to the group.
"use strict";

const form = el("form", { id: "dlq-query", class: "inline" },
  el("label", {}, "Group ", el("input", { name: "group", required: "" })),
  el("label", {}, "From ", el("input", { name: "begin", type: "datetime-local", step: "1" })),
  el("label", {}, "To ", el("input", { name: "end", type: "datetime-local", step: "1" })),
  el("span", { class: "hint" }, "(default: the last 24 hours)"),
  el("button", { type: "submit" }, "Search"));
document.getElementById("main").append(form);

async function query() {
  const group = val(form, "group");
  const now = Date.now();
  const d = await api("/api/dlq?group=" + encodeURIComponent(group) + "&begin=" + timeOf(form, "begin", now - 86400000) +
    "&end=" + timeOf(form, "end", now));
  const s = section("results", d.topic + " (" + d.messages.length + (d.truncated ? ", truncated" : "") + ")");
  s.append(table([
    ["Message id", m => m.msgId], ["Tags", m => m.tags || ""], ["Keys", m => m.keys || ""],
    ["Stored", m => fmtTime(m.storeTimestamp)], ["Body", m => m.body.slice(0, 80)],
    ["", m => el("button", { onclick: () => guarded(async () => {
      const r = await api("/api/dlq/" + encodeURIComponent(m.msgId) + "/resend", "POST", { group });
      status("resent " + m.msgId + " to " + r.clientId + ": " + r.result.consumeResult);
    }) }, "Resend")],
  ], d.messages, "dlq-table"));
}

form.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(query);
});
status("enter a consumer group");
