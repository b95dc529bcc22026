// Message trace by message id: the Pub / SubBefore / SubAfter records of the trace topic.
"use strict";

const form = el("form", { id: "trace-query", class: "inline" },
  el("label", {}, "Message id ", el("input", { name: "id", required: "", size: "34" })),
  el("label", {}, "Trace topic ", el("input", { name: "traceTopic", value: "RMQ_SYS_TRACE_TOPIC" })),
  el("button", { type: "submit" }, "Trace"));
document.getElementById("main").append(form);

form.addEventListener("submit", ev => {
  ev.preventDefault();
  guarded(async () => {
    const d = await api("/api/trace/" + encodeURIComponent(val(form, "id")) + "?traceTopic=" + encodeURIComponent(val(form, "traceTopic")));
    const s = section("results", "Trace records (" + d.records.length + ")");
    s.append(table([
      ["Type", r => r.type], ["Time", r => fmtTime(r.timestamp)], ["Group", r => r.group], ["Cost ms", r => r.costTime],
      ["Success", r => (r.success ? "yes" : "no")], ["Topic", r => r.topic], ["Tags", r => r.tags], ["Client", r => r.clientHost],
      ["Store host", r => r.storeHost], ["Retries", r => r.retryTimes],
    ], d.records, "trace-table"));
  });
});
status("enter a message id (producers record traces with enableMsgTrace)");
