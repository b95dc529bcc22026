// Messages: by topic and time range, by key, by id; detail with properties, body and per-group
// state; resend to a group (CONSUME_MESSAGE_DIRECTLY).
"use strict";

const main = document.getElementById("main");
const byTime = el("form", { id: "by-time", class: "inline" }, el("h2", {}, "By topic and time"),
  el("label", {}, "Topic ", el("input", { name: "topic", required: "" })),
  el("label", {}, "From ", el("input", { name: "begin", type: "datetime-local", step: "1" })),
  el("label", {}, "To ", el("input", { name: "end", type: "datetime-local", step: "1" })),
  el("span", { class: "hint" }, "(default: the last hour)"),
  el("button", { type: "submit" }, "Search"));
const byKey = el("form", { id: "by-key", class: "inline" }, el("h2", {}, "By key"),
  el("label", {}, "Topic ", el("input", { name: "topic", required: "" })),
  el("label", {}, "Key ", el("input", { name: "key", required: "" })),
  el("button", { type: "submit" }, "Search"));
const byId = el("form", { id: "by-id", class: "inline" }, el("h2", {}, "By message id"),
  el("label", {}, "Topic ", el("input", { name: "topic" })),
  el("label", {}, "Id ", el("input", { name: "id", required: "", size: "34" })),
  el("button", { type: "submit" }, "Show"));
main.append(byTime, byKey, byId);

function listMessages(d) {
  const s = section("results", "Messages (" + d.messages.length + (d.truncated ? ", truncated" : "") + ")");
  s.append(table([
    ["Message id", m => el("a", { href: "#", onclick: ev => { ev.preventDefault(); guarded(() => showMessage(m.msgId, m.topic)); } }, m.msgId)],
    ["Tags", m => m.tags || ""], ["Keys", m => m.keys || ""], ["Queue", m => m.queueId],
    ["Offset", m => m.queueOffset], ["Stored", m => fmtTime(m.storeTimestamp)],
  ], d.messages, "message-table"));
}

async function showMessage(id, topic) {
  const d = await api("/api/messages/" + encodeURIComponent(id) + (topic ? "?topic=" + encodeURIComponent(topic) : ""));
  const m = d.message;
  const s = section("detail", "Message " + m.msgId);
  s.append(table([["Field", r => r[0]], ["Value", r => r[1]]], [
    ["Topic", m.topic], ["Offset msg id", m.offsetMsgId], ["Tags", m.tags || ""], ["Keys", m.keys || ""],
    ["Queue", m.queueId + " @ " + m.queueOffset], ["Born", fmtTime(m.bornTimestamp) + " from " + m.bornHost],
    ["Stored", fmtTime(m.storeTimestamp) + " on " + m.storeHost], ["Reconsume times", m.reconsumeTimes],
  ]));
  s.append(el("h3", {}, "Properties"), table([["Key", r => r[0]], ["Value", r => r[1]]], Object.entries(m.properties)));
  s.append(el("h3", {}, "Body"), el("pre", { class: "body" }, m.body));
  s.append(el("h3", {}, "Consumer groups"), table([["Group", t => t.consumerGroup], ["State", t => t.trackType],
    ["Exception", t => t.exceptionDesc || ""]], d.tracks || []));
  const f = el("form", { class: "inline" }, el("label", {}, "Resend to group ", el("input", { name: "group", required: "" })),
    el("label", {}, "Client id ", el("input", { name: "clientId", placeholder: "any online client" })),
    el("button", { type: "submit" }, "Resend"));
  f.addEventListener("submit", ev => {
    ev.preventDefault();
    guarded(async () => {
      const r = await api("/api/messages/" + encodeURIComponent(m.msgId) + "/resend", "POST",
        { group: val(f, "group"), clientId: val(f, "clientId"), topic: m.topic });
      status("resent to " + r.clientId + ": " + r.result.consumeResult);
    });
  });
  s.append(f);
}

byTime.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(async () => {
    const now = Date.now();
    const q = "topic=" + encodeURIComponent(val(byTime, "topic")) + "&begin=" + timeOf(byTime, "begin", now - 3600000) +
      "&end=" + timeOf(byTime, "end", now);
    listMessages(await api("/api/messages?" + q));
  });
});
byKey.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(async () => listMessages(await api("/api/messages?topic=" + encodeURIComponent(val(byKey, "topic")) +
    "&key=" + encodeURIComponent(val(byKey, "key")))));
});
byId.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(() => showMessage(val(byId, "id"), val(byId, "topic")));
});
status("search by topic and time, key or id");
