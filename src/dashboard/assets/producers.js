// Producers: every online producer group, or one group's connections for a topic.
"use strict";

const form = el("form", { id: "producer-query", class: "inline" },
  el("label", {}, "Topic ", el("input", { name: "topic" })),
  el("label", {}, "Group ", el("input", { name: "group" })),
  el("button", { type: "submit" }, "Query"));
document.getElementById("main").append(form);
const clientCols = [["Client id", c => c.clientId], ["Address", c => c.clientAddr || c.remoteIP],
  ["Language", c => c.language], ["Version", c => c.version]];

async function refreshProducers() {
  const d = await api("/api/producers");
  const rows = Object.entries(d.groups).flatMap(([g, list]) => list.map(p => Object.assign({ group: g }, p)));
  const s = section("producers", "Online producers (" + rows.length + ")");
  s.append(table([["Group", p => p.group]].concat(clientCols), rows, "producer-table"));
}

form.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(async () => {
    const d = await api("/api/producers?topic=" + encodeURIComponent(val(form, "topic")) + "&group=" + encodeURIComponent(val(form, "group")));
    const s = section("detail", "Producers of " + d.group);
    s.append(table(clientCols, d.connections));
  });
});

every(10000, refreshProducers);
