// Consumer groups: list with config and lag (a fixed request set per broker), detail per queue,
// clients and their mode, reset offset by time, delete.
"use strict";

async function showGroup(group) {
  const d = await api("/api/groups/" + encodeURIComponent(group));
  const s = section("detail", "Group " + group + " · lag " + d.lag + " · consume TPS " + fmtNum(d.consumeTps));
  s.append(el("h3", {}, "Queues"), table([
    ["Topic", q => q.topic], ["Broker", q => q.brokerName], ["Queue", q => q.queueId],
    ["Broker offset", q => q.brokerOffset], ["Consumer offset", q => q.consumerOffset],
    ["Lag", q => q.lag], ["Last consumed", q => fmtTime(q.lastTimestamp)],
  ], d.queues, "queue-table"));
  s.append(el("h3", {}, "Clients (" + (d.connections.messageModel || "-") + ", " + (d.connections.consumeType || "-") + ")"),
    table([["Client id", c => c.clientId], ["Address", c => c.clientAddr], ["Language", c => c.language], ["Version", c => c.version]],
      d.connections.connectionSet || []));
  const topics = [...new Set(d.queues.map(q => q.topic))].sort((a, b) => a.startsWith("%") - b.startsWith("%"));
  const f = el("form", { id: "reset-offset", class: "inline" },
    el("h3", {}, "Reset offset by time"),
    el("label", {}, "Topic ", el("input", { name: "topic", value: topics[0] || "", required: "" })),
    el("label", {}, "Time ", el("input", { name: "time", type: "datetime-local", step: "1" })),
    el("span", { class: "hint" }, "(empty = newest offset)"),
    el("button", { type: "submit" }, "Reset"));
  f.addEventListener("submit", ev => {
    ev.preventDefault();
    guarded(async () => {
      const r = await api("/api/groups/" + encodeURIComponent(group) + "/reset-offset", "POST",
        { topic: val(f, "topic"), timestamp: timeOf(f, "time", -1), force: true });
      status("reset " + r.offsets.length + " queues (" + r.mode + ")");
      await showGroup(group);
      await refreshGroups();
    });
  });
  s.append(f, el("button", { class: "danger", onclick: () => guarded(async () => {
    if (!confirm("Delete group " + group + "?")) return;
    await api("/api/groups/" + encodeURIComponent(group), "DELETE");
    status("deleted " + group);
    s.replaceChildren();
    await refreshGroups();
  }) }, "Delete group"));
}

async function refreshGroups() {
  const d = await api("/api/groups");
  const s = section("groups", "Groups (" + d.groups.length + ", listed in " + fmtNum(d.elapsedMs) + " ms)");
  for (const e of d.errors || []) s.append(el("p", { class: "error" }, e.brokerName + ": " + e.error));
  s.append(table([
    ["Group", g => el("a", { href: "#" + encodeURIComponent(g.group), onclick: () => guarded(() => showGroup(g.group)) }, g.group)],
    ["Brokers", g => g.brokers.join(", ")],
    ["Broadcast", g => (g.broadcastEnable ? "allowed" : "no")],
    ["Consume", g => (g.consumeEnable ? "enabled" : "disabled")],
    ["Lag", g => g.lag],
    ["Topics", g => Object.entries(g.lagByTopic).map(([t, l]) => t + ": " + l).join(", ")],
  ], d.groups, "group-table"));
}

every(10000, refreshGroups);
if (location.hash.length > 1) guarded(() => showGroup(decodeURIComponent(location.hash.slice(1))));
