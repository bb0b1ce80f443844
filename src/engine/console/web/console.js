// The engine console: reads /console/api/state and /console/api/metrics every second and redraws in
// place. The session cookie (HttpOnly, set from the URL's token) authorizes every read; the page
// itself never holds a secret. Everything from the engine is set as text, never parsed as HTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const charts = new Map();  // chart id -> {plot, labels, element}
  let releases = [];          // for the release markers on the graphs

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
    return e;
  }

  function badge(text, kind) { return el("span", { class: "badge " + (kind || "") }, text); }

  function kindOf(state) {
    if (state === "UNKNOWN") return "";
    if (/^(COMPLETED|SUCCESSFUL|HEALTHY|healthy|RUNNING|ACTIVE|PRIMARY)$/.test(state)) return "ok";
    if (/(FAILED|UNHEALTHY|unhealthy|STOPPED|ROLLBACK)/.test(state)) return "bad";
    return "warn";
  }

  function shortTaskDef(arn) { return (arn || "").replace(/^.*:task-definition\//, ""); }
  function shortId(arn) { return (arn || "").replace(/^.*\//, ""); }
  function time(epoch) { return epoch ? new Date(epoch * 1000).toLocaleTimeString() : ""; }
  function duration(s) {
    if (s < 90) return Math.round(s) + " s";
    return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  }

  function replaceRows(table, rows) {
    const body = document.querySelector(table + " tbody");
    body.replaceChildren(...rows);
  }

  function renderServices(services) {
    document.getElementById("services-empty").hidden = services.length > 0;
    replaceRows("#services", services.map((s) => {
      const deployments = el("td", { class: "wrap" });
      for (const d of s.deployments || []) {
        deployments.append(el("span", { class: "deployment" },
          badge(d.status, d.status === "PRIMARY" ? "" : "warn"), badge(d.rolloutState || "", kindOf(d.rolloutState || "")),
          shortTaskDef(d.taskDefinition) + " · " + d.runningCount + "/" + d.desiredCount + " running",
          d.failedTasks ? " · " + d.failedTasks + " failed" : ""));
      }
      return el("tr", { class: "service", "data-name": s.serviceName },
        el("td", {}, s.serviceName), el("td", {}, shortId(s.clusterArn)),
        el("td", { class: "taskdef" }, shortTaskDef(s.taskDefinition)),
        el("td", {}, s.desiredCount), el("td", {}, s.runningCount), el("td", {}, s.pendingCount), deployments);
    }));
  }

  function renderTasks(tasks) {
    replaceRows("#tasks", tasks.map((t) => {
      const service = (t.group || "").replace(/^service:/, "");
      return el("tr", { class: "task", "data-task-id": shortId(t.taskArn), "data-status": t.lastStatus },
        el("td", {}, shortId(t.taskArn).slice(0, 12)), el("td", {}, service),
        el("td", { class: "taskdef" }, shortTaskDef(t.taskDefinitionArn)),
        el("td", { class: "status" }, badge(t.lastStatus, kindOf(t.lastStatus))),
        el("td", { class: "health" }, badge(t.healthStatus || "UNKNOWN", kindOf(t.healthStatus || ""))),
        el("td", {}, time(t.startedAt)), el("td", { class: "wrap stopped" }, t.stoppedReason || ""));
    }));
  }

  function renderTargets(targets) {
    replaceRows("#targets", targets.map((t) => el("tr", { class: "target", "data-state": t.state },
      el("td", {}, t.targetGroup), el("td", {}, t.id + ":" + t.port), el("td", {}, (t.taskId || "").slice(0, 12)),
      el("td", { class: "wrap" }, badge(t.state, kindOf(t.state)), t.description || ""))));
  }

  function renderEvents(services) {
    const all = [];
    for (const s of services) for (const e of s.events || []) all.push(e);
    all.sort((a, b) => b.createdAt - a.createdAt);
    document.getElementById("events").replaceChildren(...all.slice(0, 30).map((e) =>
      el("li", {}, el("time", {}, time(e.createdAt)), e.message)));
  }

  function renderReleases(list, now) {
    releases = list;
    document.getElementById("releases-empty").hidden = list.length > 0;
    const oldest = list.reduce((m, r) => Math.min(m, r.startedAt || r.createdAt), now);
    const span = Math.max(now - oldest, 60);
    document.getElementById("releases").replaceChildren(...list.slice(0, 30).map((r) => {
      const start = r.startedAt || r.createdAt, end = r.finishedAt || now;
      const bar = el("div", { class: "bar " + kindOf(r.status) });
      bar.style.marginLeft = (100 * (start - oldest) / span).toFixed(2) + "%";
      bar.style.width = (100 * (end - start) / span).toFixed(2) + "%";
      return el("li", { class: "release", "data-status": r.status },
        el("span", {}, time(start) + " · " + duration(end - start)), el("span", {}, r.service),
        el("span", {}, badge(r.status, kindOf(r.status)), shortTaskDef(r.taskDefinition)), el("div", {}, bar));
    }));
  }

  // Release starts as dashed vertical lines on every graph.
  const releaseMarkers = {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#8250df";
        ctx.setLineDash([4, 4]);
        for (const r of releases) {
          const x = u.valToPos(r.startedAt || r.createdAt, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };

  const COLORS = ["#0969da", "#1a7f37", "#cf222e", "#8250df", "#bf8700", "#1b7c83", "#d4358b", "#57606a"];

  function renderChart(container, chart, start, end) {
    let entry = charts.get(chart.id);
    if (!entry) {
      const plotArea = el("div", { class: "plot" });
      const element = el("div", { class: "chart", id: "chart-" + chart.id }, el("h3", {}, chart.title + " (" + chart.unit + ")"), plotArea);
      container.append(element);
      entry = { element, plotArea, plot: null, labels: "" };
      charts.set(chart.id, entry);
    }
    // uPlot wants one x axis: the union of the series' timestamps, gaps as null.
    const xs = [...new Set(chart.series.flatMap((s) => s.timestamps))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    let points = 0;
    for (const s of chart.series) {
      const ys = new Array(xs.length).fill(null);
      s.timestamps.forEach((t, i) => { ys[index.get(t)] = s.values[i]; points++; });
      data.push(ys);
    }
    entry.element.dataset.points = String(points);
    entry.element.dataset.total = String(chart.series.reduce((n, s) => n + s.values.reduce((a, b) => a + b, 0), 0));
    const labels = chart.series.map((s) => s.label).join("\n");
    if (chart.series.length === 0) {
      if (entry.plot) { entry.plot.destroy(); entry.plot = null; }
      entry.plotArea.replaceChildren(el("div", { class: "none" }, "No data points in this window (the engine records every 10 s)."));
      entry.labels = "";
      return;
    }
    entry.range = [start, end];  // read by the x scale on every redraw, so the window moves with time
    const width = Math.max(300, entry.element.clientWidth || 420);
    if (!entry.plot || entry.labels !== labels) {
      if (entry.plot) entry.plot.destroy();
      entry.plotArea.replaceChildren();
      entry.plot = new uPlot({
        width, height: 180,
        scales: { x: { time: true, range: () => entry.range }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { size: 64 }],
        series: [{}, ...chart.series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))],
        plugins: [releaseMarkers],
        // What the time axis reaches, for the browser test.
        hooks: { setScale: [(u, key) => { if (key === "x") entry.element.dataset.shownUntil = String(u.scales.x.max); }] },
      }, data, entry.plotArea);
      entry.labels = labels;
    } else {
      entry.plot.batch(() => {
        if (entry.plot.width !== width) entry.plot.setSize({ width, height: 180 });
        entry.plot.setData(data);
      });
    }
  }

  function setProblem(text) {
    const p = document.getElementById("problem");
    p.hidden = !text;
    p.textContent = text || "";
    const live = document.getElementById("live");
    live.className = "live " + (text ? "bad" : "ok");
    live.textContent = text ? "not updating" : "live";
  }

  async function read(path) {
    const r = await fetch(path, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    if (r.status === 401 || r.status === 403) {
      throw new Error("The engine refused this page's token (it restarted with a new one?): run `slipway engine console` for the current URL.");
    }
    if (!r.ok) throw new Error("The engine answered " + r.status + " for " + path + ".");
    return r.json();
  }

  async function poll() {
    try {
      const [state, metrics] = await Promise.all([read("/console/api/state"), read("/console/api/metrics")]);
      const now = metrics.end || Date.now() / 1000;
      renderServices(state.services || []);
      renderReleases(state.releases || [], Date.now() / 1000);
      renderTasks(state.tasks || []);
      renderTargets(state.targets || []);
      renderEvents(state.services || []);
      const container = document.getElementById("charts");
      // The graphs start shortly before the oldest point any of them has, so a young engine's few
      // minutes fill the width instead of a sliver at its right edge.
      const oldest = Math.min(now - 120, ...(metrics.charts || []).flatMap((c) => c.series.map((s) => s.timestamps[0] || now)));
      const start = Math.max(metrics.start, oldest - 30);
      for (const chart of metrics.charts || []) renderChart(container, chart, start, now);
      document.getElementById("graph-window").textContent = "last " + Math.max(1, Math.round((now - start) / 60)) + " min, 10 s points";
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      setProblem("");
    } catch (e) {
      setProblem(e.message);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
