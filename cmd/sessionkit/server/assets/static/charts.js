// sessionkit viewer charts: the shape of one conversation, drawn as inline
// SVG built with DOM calls (no library, no CDN, nothing from the server is
// parsed as markup).
"use strict";

const svgNS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// turnsOf returns one point per model call: every assistant message whose
// model metadata recorded usage, in timeline order, with the tools it called.
function turnsOf(tl) {
  const turns = [];
  for (const ev of tl.events) {
    if (ev.kind !== "message" || ev.role !== "assistant") continue;
    const meta = (ev.message.message || {}).metadata;
    if (!meta || !meta.usage) continue;
    turns.push({
      label: ev.agent_id + " #" + ev.message_id,
      input: meta.usage.inputTokens || 0,
      output: meta.usage.outputTokens || 0,
      latency: meta.metrics ? meta.metrics.latencyMs || 0 : 0,
      tools: (ev.tool_calls || []).map((c) => c.name),
    });
  }
  return turns;
}

// renderCharts draws, for the timeline's session, input and output tokens
// as bars and model latency as a line per model call, with a strip marking
// the calls that used tools. Nothing is drawn for a session without model
// usage.
function renderCharts(tl) {
  const box = document.getElementById("tl-charts");
  box.replaceChildren();
  const turns = turnsOf(tl);
  if (turns.length === 0) return;
  const W = 720, H = 200, padL = 48, padR = 48, padT = 12, stripH = 22, padB = 28;
  const plotH = H - padT - padB - stripH;
  const n = turns.length, slot = (W - padL - padR) / n, bw = Math.max(2, Math.min(18, slot / 3));
  const maxTok = Math.max(1, ...turns.map((t) => Math.max(t.input, t.output)));
  const maxLat = Math.max(1, ...turns.map((t) => t.latency));
  const yTok = (v) => padT + plotH - (v / maxTok) * plotH;
  const yLat = (v) => padT + plotH - (v / maxLat) * plotH;
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "data-points": n,
    "aria-label": "Tokens and model latency per model call: " + n + " calls" });
  svg.append(svgEl("title", {}, "Tokens and model latency per model call"));
  svg.append(svgEl("line", { x1: padL, y1: padT + plotH, x2: W - padR, y2: padT + plotH, class: "axis" }));
  svg.append(svgEl("text", { x: padL - 6, y: padT + 8, class: "tick", "text-anchor": "end" }, maxTok));
  svg.append(svgEl("text", { x: padL - 6, y: padT + plotH, class: "tick", "text-anchor": "end" }, 0));
  svg.append(svgEl("text", { x: W - padR + 6, y: padT + 8, class: "tick lat" }, maxLat + " ms"));
  const line = [];
  turns.forEach((t, i) => {
    const cx = padL + slot * i + slot / 2;
    const bin = svgEl("rect", { x: cx - bw, y: yTok(t.input), width: bw, height: padT + plotH - yTok(t.input), class: "bar in" });
    bin.append(svgEl("title", {}, t.label + ": " + t.input + " input tokens"));
    const bout = svgEl("rect", { x: cx, y: yTok(t.output), width: bw, height: padT + plotH - yTok(t.output), class: "bar out" });
    bout.append(svgEl("title", {}, t.label + ": " + t.output + " output tokens"));
    const pt = svgEl("circle", { cx: cx, cy: yLat(t.latency), r: 3.5, class: "pt-latency" });
    pt.append(svgEl("title", {}, t.label + ": model latency " + t.latency + " ms"));
    svg.append(bin, bout, pt);
    line.push(cx.toFixed(1) + "," + yLat(t.latency).toFixed(1));
    const sy = padT + plotH + 6;
    if (t.tools.length) {
      const mark = svgEl("rect", { x: cx - slot / 2 + 2, y: sy, width: slot - 4, height: stripH - 8, rx: 3, class: "tool-mark" });
      mark.append(svgEl("title", {}, t.label + ": " + t.tools.join(", ")));
      svg.append(mark, svgEl("text", { x: cx, y: sy + stripH - 12, class: "tool-name", "text-anchor": "middle" }, t.tools.join(", ")));
    }
    svg.append(svgEl("text", { x: cx, y: H - 4, class: "tick", "text-anchor": "middle" }, i + 1));
  });
  svg.insertBefore(svgEl("polyline", { points: line.join(" "), class: "latency" }), svg.querySelector("circle"));
  const legend = document.createElement("p");
  legend.className = "legend";
  for (const [cls, text] of [["in", "input tokens"], ["out", "output tokens"], ["lat", "model latency"], ["tool", "tool calls"]]) {
    const s = document.createElement("span");
    s.className = "key " + cls;
    s.textContent = text;
    legend.append(s);
  }
  box.append(svg, legend);
}

// renderStats draws, per application of a GET /api/stats answer, one chart
// over its days: sessions created per day as bars, guardrail interventions
// per day as a line with one point per day, and the share of feedback that
// was up (up / (up + down)) as points on the days that had feedback.
function renderStats(box, st) {
  box.replaceChildren();
  const n = st.days.length;
  const head = document.createElement("p");
  head.className = "legend";
  head.textContent = "Per application, " + st.from + " to " + st.to + " (UTC days; feedback and guardrail counted on the session's creation day)" +
    (st.truncated ? " — only the newest " + st.sessions_scanned + " sessions were counted" : "");
  box.append(head);
  if (st.applications.length === 0) {
    const p = document.createElement("p");
    p.textContent = "No sessions in this range.";
    box.append(p);
    return;
  }
  const W = 720, H = 170, padL = 40, padR = 48, padT = 12, padB = 22;
  const plotH = H - padT - padB, slot = (W - padL - padR) / n, bw = Math.max(1, Math.min(16, slot * 0.6));
  for (const app of st.applications) {
    const maxS = Math.max(1, ...app.sessions), maxG = Math.max(1, ...app.guardrail_interventions);
    const y = (v, max) => padT + plotH - (v / max) * plotH;
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, class: "chart stats", role: "img",
      "data-application": app.application, "data-days": n,
      "aria-label": app.application + ": " + sum(app.sessions) + " sessions, " + sum(app.feedback_up) + " up, " +
        sum(app.feedback_down) + " down, " + sum(app.guardrail_interventions) + " guardrail interventions" });
    svg.append(svgEl("title", {}, app.application));
    svg.append(svgEl("line", { x1: padL, y1: padT + plotH, x2: W - padR, y2: padT + plotH, class: "axis" }));
    svg.append(svgEl("text", { x: padL - 6, y: padT + 8, class: "tick", "text-anchor": "end" }, maxS));
    svg.append(svgEl("text", { x: padL - 6, y: padT + plotH, class: "tick", "text-anchor": "end" }, 0));
    svg.append(svgEl("text", { x: W - padR + 6, y: padT + 8, class: "tick guard" }, maxG + " int."));
    svg.append(svgEl("text", { x: W - padR + 6, y: padT + 20, class: "tick ratio" }, "100% up"));
    svg.append(svgEl("text", { x: W - padR + 6, y: padT + plotH, class: "tick ratio" }, "0% up"));
    const line = [], pts = [];
    st.days.forEach((day, i) => {
      const cx = padL + slot * i + slot / 2, s = app.sessions[i];
      const bar = svgEl("rect", { x: cx - bw / 2, y: y(s, maxS), width: bw, height: padT + plotH - y(s, maxS), class: "bar sessions" });
      bar.append(svgEl("title", {}, day + ": " + s + " sessions"));
      svg.append(bar);
      const g = app.guardrail_interventions[i];
      line.push(cx.toFixed(1) + "," + y(g, maxG).toFixed(1));
      const pg = svgEl("circle", { cx: cx, cy: y(g, maxG), r: 2.5, class: "pt-guardrail" });
      pg.append(svgEl("title", {}, day + ": " + g + " guardrail interventions"));
      pts.push(pg);
      const up = app.feedback_up[i], down = app.feedback_down[i];
      if (up + down > 0) {
        // The ratio shares the plot height: the top is 100% up.
        const pr = svgEl("rect", { x: cx - 4, y: y(up / (up + down), 1) - 4, width: 8, height: 8, class: "pt-ratio" });
        pr.append(svgEl("title", {}, day + ": feedback " + up + " up, " + down + " down (" + Math.round(100 * up / (up + down)) + "% up)"));
        pts.push(pr);
      }
      if (i === 0 || i === n - 1 || (n > 10 && i % 7 === 0 && n - 1 - i >= 4)) {
        svg.append(svgEl("text", { x: cx, y: H - 6, class: "tick", "text-anchor": "middle" }, day.slice(5)));
      }
    });
    svg.append(svgEl("polyline", { points: line.join(" "), class: "guardrail" }), ...pts);
    const legend = document.createElement("p");
    legend.className = "legend";
    for (const [cls, text] of [["sessions", "sessions per day"], ["guard", "guardrail interventions"], ["ratio", "feedback % up"]]) {
      const s = document.createElement("span");
      s.className = "key " + cls;
      s.textContent = text;
      legend.append(s);
    }
    const fig = document.createElement("figure");
    fig.className = "stats-app";
    const cap = document.createElement("figcaption");
    cap.textContent = app.application || "(no application)";
    fig.append(cap, svg, legend);
    box.append(fig);
  }
}
