// Topics: list with kind filter and search; create/update; status, route, consumers; send; delete.
"use strict";

const main = document.getElementById("main");
const createForm = el("form", { id: "create-topic" },
  el("h2", {}, "Create or update a topic"),
  el("label", {}, "Name ", el("input", { name: "topic", required: "" })),
  el("label", {}, "Read queues ", el("input", { name: "readQueueNums", type: "number", value: "8", min: "1" })),
  el("label", {}, "Write queues ", el("input", { name: "writeQueueNums", type: "number", value: "8", min: "1" })),
  el("label", {}, "Perm ", el("select", { name: "perm" },
    el("option", { value: "6" }, "6 read+write"), el("option", { value: "4" }, "4 read"), el("option", { value: "2" }, "2 write"))),
  el("button", { type: "submit" }, "Save"));
const filterForm = el("form", { id: "filter" },
  el("label", {}, "Kind ", el("select", { name: "filter" },
    ["ALL", "NORMAL", "RETRY", "DLQ", "SYSTEM"].map(k => el("option", { value: k }, k)))),
  el("label", {}, "Search ", el("input", { name: "q", type: "search" })));
main.append(createForm, filterForm);

async function showDetail(title, path, render) {
  const s = section("detail", title);
  s.append(render(await api(path)));
  s.scrollIntoView({ block: "nearest" });
}

function sendForm(topic) {
  const f = el("form", { class: "inline" },
    el("input", { name: "body", placeholder: "body", required: "" }),
    el("input", { name: "tags", placeholder: "tags" }),
    el("input", { name: "keys", placeholder: "keys" }),
    el("button", { type: "submit" }, "Send"));
  f.addEventListener("submit", ev => {
    ev.preventDefault();
    guarded(async () => {
      const r = await api("/api/topics/" + encodeURIComponent(topic) + "/send", "POST",
        { body: val(f, "body"), tags: val(f, "tags"), keys: val(f, "keys") });
      status("sent " + r.msgId + " to " + r.brokerName + " queue " + r.queueId + ": " + r.status);
    });
  });
  const s = section("detail", "Send a message to " + topic);
  s.append(f);
}

const actions = t => el("span", { class: "actions" },
  el("button", { onclick: () => guarded(() => showDetail("Status of " + t.topic, "/api/topics/" + encodeURIComponent(t.topic) + "/status",
    d => table([["Broker", q => q.brokerName], ["Queue", q => q.queueId], ["Min offset", q => q.minOffset],
      ["Max offset", q => q.maxOffset], ["Last update", q => fmtTime(q.lastUpdateTimestamp)]], d.queues))) }, "Status"),
  el("button", { onclick: () => guarded(() => showDetail("Route of " + t.topic, "/api/topics/" + encodeURIComponent(t.topic) + "/route",
    d => el("pre", {}, JSON.stringify(d, null, 2)))) }, "Route"),
  el("button", { onclick: () => guarded(() => showDetail("Consumers of " + t.topic, "/api/topics/" + encodeURIComponent(t.topic) + "/consumers",
    d => table([["Group", g => el("a", { href: "/groups#" + encodeURIComponent(g) }, g)]], d.groups))) }, "Consumers"),
  el("button", { onclick: () => sendForm(t.topic) }, "Send"),
  el("button", { class: "danger", onclick: () => guarded(async () => {
    if (!confirm("Delete topic " + t.topic + "?")) return;
    await api("/api/topics/" + encodeURIComponent(t.topic), "DELETE");
    status("deleted " + t.topic);
    await refreshTopics();
  }) }, "Delete"));

let lastTopics = [];
function renderTopics() {
  const q = val(filterForm, "q").toLowerCase();
  const rows = lastTopics.filter(t => !q || t.topic.toLowerCase().includes(q));
  const s = section("topics", "Topics (" + rows.length + ")");
  s.append(table([["Topic", t => t.topic], ["Kind", t => t.kind], ["", actions]], rows, "topic-table"));
}

async function refreshTopics() {
  const data = await api("/api/topics?filter=" + val(filterForm, "filter"));
  lastTopics = data.topics;
  renderTopics();
}

createForm.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(async () => {
    const body = {
      topic: val(createForm, "topic"),
      readQueueNums: Number(val(createForm, "readQueueNums")),
      writeQueueNums: Number(val(createForm, "writeQueueNums")),
      perm: Number(val(createForm, "perm")),
    };
    const r = await api("/api/topics", "POST", body);
    status("saved " + r.topic + " on " + r.brokers.join(", "));
    // The name server lists the topic once the broker re-registers: refresh a few times.
    for (let i = 0; i < 20 && !lastTopics.some(t => t.topic === body.topic); i++) {
      await refreshTopics();
      if (!lastTopics.some(t => t.topic === body.topic)) await new Promise(r => setTimeout(r, 500));
    }
  });
});
filterForm.addEventListener("change", () => guarded(refreshTopics));
filterForm.addEventListener("input", renderTopics);
filterForm.addEventListener("submit", ev => ev.preventDefault());

every(10000, refreshTopics);
