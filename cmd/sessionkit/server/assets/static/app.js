// sessionkit session viewer. Plain JavaScript, no dependencies. Every value
// from the server goes into the page through textContent, never innerHTML.
"use strict";

const state = { auth: null, query: "", cameFromSearch: false };

function $(id) { return document.getElementById(id); }

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function show(view) {
  for (const v of ["login-view", "search-view", "timeline-view"]) $(v).hidden = v !== view;
  $("logout").hidden = view === "login-view";
}

// canSearch: the admin token and API keys (role "application") search;
// a viewer password opens one session.
function canSearch() { return state.auth.role === "admin" || state.auth.role === "application"; }

function headers() {
  const h = {};
  if (!state.auth) return h;
  if (canSearch()) h["Authorization"] = "Bearer " + state.auth.token;
  else h["X-Session-Password"] = state.auth.password;
  return h;
}

async function api(path, opts) {
  const res = await fetch(path, Object.assign({ headers: headers() }, opts || {}));
  let body = null;
  try { body = await res.json(); } catch (_) { /* empty body */ }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.statusText;
    const err = new Error(res.status + ": " + msg);
    err.status = res.status;
    throw err;
  }
  return body;
}

async function login(payload, auth) {
  $("login-error").textContent = "";
  try {
    const r = await api("/api/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
    });
    state.auth = Object.assign(auth, { role: r.role, application: r.application_name });
    sessionStorage.setItem("sessionkit-auth", JSON.stringify(state.auth));
    start();
  } catch (e) {
    $("login-error").textContent = e.status === 429 ? "Too many attempts; wait a moment." : "Login failed (" + e.message + ")";
  }
}

function start() {
  if (canSearch()) {
    $("who").textContent = state.auth.role === "admin" ? "admin" : "application " + (state.auth.application || "");
  } else {
    $("who").textContent = "session " + state.auth.sessionId;
  }
  route();
}

// Views have URLs: "#/sessions?<filters>" is the search (filters and page
// cursor as the API takes them), "#/sessions/<id>" one timeline. Reload,
// Back and a shared link all land on the same view.
function sessionHash(id) { return "#/sessions/" + encodeURIComponent(id); }

function parseHash() {
  const h = location.hash.replace(/^#/, "");
  const m = /^\/sessions\/([^?]+)$/.exec(h);
  if (m) return { view: "timeline", id: decodeURIComponent(m[1]) };
  const q = h.startsWith("/sessions?") ? h.slice("/sessions?".length) : "";
  return { view: "search", query: new URLSearchParams(q) };
}

function route() {
  if (!state.auth) { show("login-view"); return; }
  const r = parseHash();
  if (r.view === "timeline") { openTimeline(r.id); return; }
  if (!canSearch()) { location.replace(sessionHash(state.auth.sessionId)); return; }
  if (!location.hash.startsWith("#/sessions")) history.replaceState(null, "", "#/sessions");
  fillForm(r.query);
  show("search-view");
  const cursor = r.query.get("cursor") || "";
  r.query.delete("cursor");
  if (!r.query.has("limit")) r.query.set("limit", "20");
  state.query = r.query.toString();
  search(cursor);
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function fillForm(p) {
  $("f-app").value = p.get("application") || "";
  $("f-prefix").value = p.get("id_prefix") || "";
  const meta = [];
  for (const [k, v] of p) if (k.startsWith("metadata.")) meta.push(k.slice("metadata.".length) + "=" + v);
  $("f-meta").value = meta.join(", ");
  $("f-from").value = p.get("created_from") || "";
  $("f-to").value = p.get("created_to") || "";
}

function queryFromForm() {
  const p = new URLSearchParams();
  const app = $("f-app").value.trim(), prefix = $("f-prefix").value.trim(), meta = $("f-meta").value.trim();
  if (app) p.set("application", app);
  if (prefix) p.set("id_prefix", prefix);
  if (meta) {
    for (const pair of meta.split(",")) {
      const i = pair.indexOf("=");
      if (i > 0) p.set("metadata." + pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }
  if ($("f-from").value) p.set("created_from", $("f-from").value);
  if ($("f-to").value) p.set("created_to", $("f-to").value);
  return p;
}

async function search(cursor) {
  $("search-error").textContent = "";
  const q = state.query + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
  let page;
  try {
    page = await api("/api/sessions?" + q);
  } catch (e) {
    $("search-error").textContent = e.message;
    return;
  }
  if (!cursor) loadStats();
  const tbody = $("results").querySelector("tbody");
  tbody.replaceChildren();
  for (const s of page.sessions) {
    const tr = el("tr");
    tr.dataset.sessionId = s.session_id;
    const td = el("td", "sid");
    const a = el("a", "", s.session_id);
    a.href = sessionHash(s.session_id);
    td.append(a);
    tr.append(td, el("td", "", s.application_name || ""),
      timeCell(s.created_at), el("td", "num", s.agent_count),
      el("td", "num", s.message_count), el("td", "num", s.feedback_count));
    // The whole row is a target for the mouse; the link is the keyboard's.
    tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") go(sessionHash(s.session_id)); });
    tbody.append(tr);
  }
  if (page.sessions.length === 0) {
    const tr = el("tr"); const td = el("td", "", "No sessions match."); td.colSpan = 6; tr.append(td); tbody.append(tr);
  }
  state.next = page.next_cursor || "";
  $("next-page").disabled = !state.next;
  $("first-page").disabled = !cursor;
}

// loadStats fetches the per-application daily counts for the search's
// application and creation dates (the search's created_to is exclusive,
// the stats' to is the last day included) and draws them.
async function loadStats() {
  const box = $("stats-charts");
  const p = new URLSearchParams(state.query), q = new URLSearchParams();
  if (p.get("application")) q.set("application", p.get("application"));
  const day = (v) => /^\d{4}-\d{2}-\d{2}/.test(v || "") ? v.slice(0, 10) : "";
  if (day(p.get("created_from"))) q.set("from", day(p.get("created_from")));
  if (day(p.get("created_to"))) {
    const t = new Date(day(p.get("created_to")) + "T00:00:00Z");
    t.setUTCDate(t.getUTCDate() - 1);
    q.set("to", t.toISOString().slice(0, 10));
  }
  try {
    renderStats(box, await api("/api/stats?" + q));
  } catch (e) {
    box.replaceChildren(el("p", "error", "Charts: " + e.message));
  }
}

function searchHash(cursor) {
  const p = new URLSearchParams(state.query);
  p.delete("limit");
  if (cursor) p.set("cursor", cursor);
  const s = p.toString();
  return "#/sessions" + (s ? "?" + s : "");
}

// Times are shown in the viewer's local time zone; the exact UTC instant is
// the tooltip and the datetime attribute.
function timeEl(t) {
  const e = el("time");
  if (!t) return e;
  const d = new Date(t);
  e.dateTime = d.toISOString();
  e.title = d.toISOString().replace("T", " ").replace("Z", " UTC");
  e.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return e;
}

function timeCell(t) { const td = el("td"); td.append(timeEl(t)); return td; }

const roleLabels = { user: "User", assistant: "Assistant", system: "System" };

// ---- content blocks ----

const maxPreviewBytes = 2 * 1024 * 1024; // larger images are described, not drawn

function fmtBytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
  return (n / 1024 / 1024).toFixed(1) + " MB";
}

// mediaBytes returns the base64 text and decoded size of a media block's
// stored bytes ({"__bytes_encoded__": true, "data": …} or a base64 string),
// or null for an S3 location.
function mediaBytes(src) {
  if (!src) return null;
  let b = src.bytes;
  if (b && typeof b === "object") b = b.data;
  if (typeof b !== "string") return null;
  const pad = b.endsWith("==") ? 2 : b.endsWith("=") ? 1 : 0;
  return { b64: b, size: Math.floor(b.length * 3 / 4) - pad };
}

function jsonBlock(v) {
  return el("pre", "json", JSON.stringify(v, null, 2));
}

// collapsible shows body under a summary line; short bodies start open, so
// tool arguments read at a glance, long ones closed.
function collapsible(cls, summaryParts, body, open) {
  const d = el("details", cls);
  const s = el("summary");
  s.append(...summaryParts);
  d.append(s, body);
  d.open = open;
  return d;
}

function isShort(v) { return JSON.stringify(v, null, 2).split("\n").length <= 16; }

function renderImage(img) {
  const fmt = img.format || "image";
  const mb = mediaBytes(img.source);
  const box = el("figure", "media image");
  if (mb && mb.size <= maxPreviewBytes && /^(png|jpe?g|gif|webp)$/.test(fmt)) {
    const i = el("img", "thumb");
    i.alt = "image (" + fmt + ", " + fmtBytes(mb.size) + ")";
    i.src = "data:image/" + (fmt === "jpg" ? "jpeg" : fmt) + ";base64," + mb.b64;
    box.append(i);
  }
  box.append(el("figcaption", "", "image · " + fmt + (mb ? " · " + fmtBytes(mb.size) : " · stored outside the session")));
  return box;
}

function renderDocument(doc) {
  const mb = mediaBytes(doc.source);
  const d = el("div", "media document");
  d.append(el("span", "tag doc", "DOCUMENT"),
    document.createTextNode((doc.name || "unnamed") + "." + (doc.format || "") + (mb ? " · " + fmtBytes(mb.size) : "")));
  return d;
}

function renderBlocks(blocks) {
  const out = [];
  for (const b of blocks || []) {
    if (typeof b.text === "string") { out.push(el("div", "text", b.text)); continue; }
    if (b.toolUse) {
      const tu = b.toolUse;
      out.push(collapsible("tool-call", [el("span", "tag tool", "TOOL CALL"), el("code", "", tu.name || "")],
        jsonBlock(tu.input === undefined ? {} : tu.input), isShort(tu.input)));
      continue;
    }
    if (b.toolResult) {
      const tr = b.toolResult;
      const body = el("div", "result-body");
      for (const item of tr.content || []) {
        if (typeof item.text === "string") body.append(el("pre", "json", item.text));
        else if (item.json !== undefined) body.append(jsonBlock(item.json));
        else body.append(...renderBlocks([item]));
      }
      const status = tr.status || "";
      out.push(collapsible("tool-result", [el("span", "tag result " + (status === "error" ? "error" : ""), "RESULT " + status)],
        body, isShort(tr.content)));
      continue;
    }
    if (b.image) { out.push(renderImage(b.image)); continue; }
    if (b.document) { out.push(renderDocument(b.document)); continue; }
    if (b.reasoningContent) {
      const rc = b.reasoningContent;
      const text = rc.reasoningText ? rc.reasoningText.text || "" : "(redacted reasoning)";
      out.push(collapsible("reasoning", [el("span", "tag reasoning", "REASONING")], el("div", "text", text), false));
      continue;
    }
    if (b.cachePoint) continue; // a prompt-cache marker, nothing to read
    const kind = Object.keys(b)[0] || "block";
    out.push(collapsible("other", [el("span", "tag other", kind)], jsonBlock(b[kind]), false));
  }
  return out;
}

// ---- metrics ----

// turnTools returns this turn's tool calls: the difference between the
// cumulative counters and the ones last stored for the same agent (a new
// process restarts them from zero).
function turnTools(now, before) {
  const out = [];
  for (const [name, t] of Object.entries(now || {})) {
    const b = (before || {})[name];
    let calls = t.call_count, ok = t.success_count;
    if (b && b.call_count <= t.call_count) { calls -= b.call_count; ok -= b.success_count; }
    if (calls > 0) out.push(name + " ×" + calls + " (" + ok + " ok)");
  }
  return out;
}

function metricsLine(m, prev) {
  const u = m.invocation_usage || m.accumulated_usage, l = m.accumulated_metrics;
  let latency = l.latencyMs;
  if (prev && prev.accumulated_metrics && prev.accumulated_metrics.latencyMs <= latency) latency -= prev.accumulated_metrics.latencyMs;
  let s = "this invocation: tokens in " + u.inputTokens + " · out " + u.outputTokens + " · total " + u.totalTokens +
    " · model latency " + latency + " ms";
  const tools = turnTools(m.tool_usage, prev && prev.tool_usage);
  s += tools.length ? " · tools " + tools.join(", ") : " · no tool calls";
  return s;
}

function modelCallLine(meta) {
  if (!meta || !meta.usage) return null;
  const u = meta.usage, lat = meta.metrics ? meta.metrics.latencyMs : undefined;
  return el("div", "metrics model-call", "model call: in " + u.inputTokens + " · out " + u.outputTokens +
    (lat !== undefined ? " · " + lat + " ms" : ""));
}

function renderEvent(ev, ctx) {
  const li = el("li", "ev " + ev.kind);
  const head = el("div", "head");
  let label = ev.kind.charAt(0).toUpperCase() + ev.kind.slice(1);
  if (ev.kind === "message") {
    const isResult = (ev.tool_results || []).length > 0 && !ev.text;
    label = isResult ? "Tool result" : roleLabels[ev.role] || ev.role;
  }
  head.append(el("span", "role-label", label), timeEl(ev.at));
  const who = ev.agent_id ? ev.agent_id + (ev.message_id !== undefined ? " #" + ev.message_id : "") : "";
  if (who) head.append(el("span", "who", who));
  li.append(head);
  switch (ev.kind) {
    case "session":
      li.append(el("div", "text", "Session created"));
      break;
    case "agent": {
      const c = ev.agent.config || {};
      li.append(el("div", "text", "Agent " + ev.agent_id + " created" + (c.model ? " · model " + c.model : "")));
      break;
    }
    case "message": {
      li.classList.add(ev.role);
      li.dataset.role = ev.role;
      const msg = ev.message.message || {};
      if (ev.redacted) {
        const orig = el("div", "original");
        orig.append(...renderBlocks(msg.content));
        const red = el("div", "redaction");
        red.append(el("span", "", "Agent sees: "), ...renderBlocks((ev.message.redact_message || {}).content));
        li.append(el("span", "tag redacted", "REDACTED"), orig, red);
      } else {
        li.append(...renderBlocks(msg.content));
      }
      const mc = modelCallLine(msg.metadata);
      if (mc) li.append(mc);
      const m = ev.message.event_loop_metrics;
      if (m) {
        li.append(el("div", "metrics", metricsLine(m, ctx.metrics[ev.agent_id])));
        ctx.metrics[ev.agent_id] = m;
      }
      break;
    }
    case "guardrail": {
      const g = ev.guardrail;
      let pol = "";
      for (const [k, v] of Object.entries(g.policies_triggered || {})) pol += " · " + k + ": " + v.join(", ");
      li.append(el("div", "text", "Guardrail " + g.action + (g.stop_reason ? " (" + g.stop_reason + ")" : "") + pol));
      break;
    }
    case "feedback": {
      const f = ev.feedback;
      const d = el("div", "text");
      d.append(el("span", "tag " + (f.rating || "none"), (f.rating || "no rating").toUpperCase()),
        document.createTextNode("Feedback" + (f.message_id !== undefined ? " on " + f.agent_id + " #" + f.message_id : " on the session") +
          (f.comment ? ": " + f.comment : "")));
      li.append(d);
      break;
    }
  }
  return li;
}

async function openTimeline(id) {
  let tl;
  try {
    tl = await api("/api/sessions/" + encodeURIComponent(id) + "/timeline");
  } catch (e) {
    if (canSearch()) { show("search-view"); $("search-error").textContent = e.message; return; }
    logout(); $("login-error").textContent = e.message; return;
  }
  show("timeline-view");
  $("back").hidden = !canSearch();
  $("tl-title").textContent = tl.session.session_id;
  const dl = $("tl-meta");
  dl.replaceChildren();
  const add = (k, v) => { const dd = el("dd"); if (v instanceof Node) dd.append(v); else dd.textContent = v; dl.append(el("dt", "", k), dd); };
  add("application", tl.session.application_name || "");
  add("created", timeEl(tl.session.created_at));
  for (const [k, v] of Object.entries(tl.session.metadata || {})) add("metadata." + k, JSON.stringify(v));
  for (const sn of tl.snapshots || []) {
    const v = el("span", "", sn.size_bytes + " bytes, ");
    v.append(timeEl(sn.updated_at));
    add("snapshot " + sn.key, v);
  }
  if (tl.more_snapshots) add("snapshots", "more keys: GET /api/sessions/" + tl.session.session_id + "/snapshots");
  const ctx = { metrics: {} };
  $("timeline").replaceChildren(...tl.events.map((ev) => renderEvent(ev, ctx)));
  if (typeof renderCharts === "function") renderCharts(tl);
  loadMultiAgents(tl.session.session_id);
  if (typeof renderLineage === "function") renderLineage(tl.session);
}

// loadMultiAgents shows the session's Strands multi-agent orchestrators
// (Graph, Swarm): one collapsible state per orchestrator, with its status
// and last update in the summary. The panel stays hidden when there are
// none or the store keeps none (501).
async function loadMultiAgents(id) {
  const box = $("tl-multi");
  box.hidden = true;
  box.replaceChildren();
  let res;
  try {
    res = await api("/api/sessions/" + encodeURIComponent(id) + "/multi_agents");
  } catch (_) {
    return;
  }
  const list = (res && res.multi_agents) || [];
  if (list.length === 0 || $("tl-title").textContent !== id) return;
  box.append(el("h3", "", "Multi-agent orchestrators (" + list.length + ")"));
  for (const m of list) {
    const st = m.state || {};
    const parts = [el("span", "ma-id", m.multi_agent_id)];
    if (st.status) parts.push(el("span", "tag", String(st.status)));
    if (m.updated_at) { parts.push(document.createTextNode(" updated ")); parts.push(timeEl(m.updated_at)); }
    box.append(collapsible("multi-agent", parts, jsonBlock(st), isShort(st)));
  }
  box.hidden = false;
}

function logout() {
  state.auth = null;
  sessionStorage.removeItem("sessionkit-auth");
  $("who").textContent = "";
  show("login-view");
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-admin").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("admin-token").value;
    login({ admin_token: token }, { token: token });
  });
  $("login-session").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("login-session-id").value.trim(), pw = $("login-password").value;
    if (id && parseHash().id !== id) history.replaceState(null, "", sessionHash(id));
    login({ session_id: id, password: pw }, { sessionId: id, password: pw });
  });
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    state.query = queryFromForm().toString();
    go(searchHash(""));
  });
  $("next-page").addEventListener("click", () => go(searchHash(state.next)));
  $("first-page").addEventListener("click", () => go(searchHash("")));
  $("back").addEventListener("click", () => {
    // Back to the search this timeline was opened from, if it was.
    if (state.cameFromSearch) history.back(); else go("#/sessions");
  });
  $("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", (e) => {
    state.cameFromSearch = e.oldURL.includes("#/sessions") && !/#\/sessions\/[^?]/.test(e.oldURL) && parseHash().view === "timeline";
    route();
  });
  state.query = "limit=20";
  const saved = sessionStorage.getItem("sessionkit-auth");
  if (saved) { state.auth = JSON.parse(saved); start(); } else { show("login-view"); }
});
