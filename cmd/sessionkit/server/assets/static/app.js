// sessionkit session viewer. Plain JavaScript, no dependencies. Every value
// from the server goes into the page through textContent, never innerHTML.
"use strict";

const state = { auth: null, cursors: [], query: "" };

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
    show("search-view");
    search("");
  } else {
    $("who").textContent = "session " + state.auth.sessionId;
    openTimeline(state.auth.sessionId);
  }
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
  p.set("limit", "20");
  return p.toString();
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
  const tbody = $("results").querySelector("tbody");
  tbody.replaceChildren();
  for (const s of page.sessions) {
    const tr = el("tr");
    tr.dataset.sessionId = s.session_id;
    tr.append(el("td", "sid", s.session_id), el("td", "", s.application_name || ""),
      el("td", "", fmtTime(s.created_at)), el("td", "num", s.agent_count),
      el("td", "num", s.message_count), el("td", "num", s.feedback_count));
    tr.addEventListener("click", () => openTimeline(s.session_id));
    tbody.append(tr);
  }
  if (page.sessions.length === 0) {
    const tr = el("tr"); const td = el("td", "", "No sessions match."); td.colSpan = 6; tr.append(td); tbody.append(tr);
  }
  state.next = page.next_cursor || "";
  $("next-page").disabled = !state.next;
  $("first-page").disabled = !cursor;
}

function fmtTime(t) { return t ? new Date(t).toISOString().replace("T", " ").slice(0, 19) : ""; }

function metricsLine(m) {
  const u = m.accumulated_usage, l = m.accumulated_metrics, c = m.cycle_metrics;
  let s = "tokens in " + u.inputTokens + " · out " + u.outputTokens + " · total " + u.totalTokens +
    " · cycles " + c.cycle_count + " · model latency " + l.latencyMs + " ms";
  if (m.tool_usage) {
    for (const [name, t] of Object.entries(m.tool_usage)) s += " · " + name + " ×" + t.call_count + " (" + Math.round(t.success_rate * 100) + "% ok)";
  }
  return s;
}

function renderEvent(ev) {
  const li = el("li", "ev " + ev.kind);
  const who = ev.agent_id ? ev.agent_id + (ev.message_id !== undefined ? " #" + ev.message_id : "") : "";
  li.append(el("div", "head", fmtTime(ev.at) + " · " + ev.kind + (who ? " · " + who : "")));
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
      if (ev.redacted) {
        const tag = el("span", "tag redacted", "REDACTED");
        li.append(tag, el("div", "text original", ev.text || ""), el("div", "text redaction", "Agent sees: " + (ev.redaction || "")));
      } else if (ev.text) {
        li.append(el("div", "text", ev.text));
      }
      for (const tc of ev.tool_calls || []) {
        const d = el("div", "tool-call");
        d.append(el("span", "tag tool", "TOOL CALL"), document.createTextNode(tc.name + "(" + (tc.input || "") + ")"));
        li.append(d);
      }
      for (const tr of ev.tool_results || []) {
        const d = el("div", "tool-result");
        d.append(el("span", "tag result", "RESULT " + tr.status), document.createTextNode(tr.text || ""));
        li.append(d);
      }
      if (ev.message.event_loop_metrics) li.append(el("div", "metrics", metricsLine(ev.message.event_loop_metrics)));
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
    if (canSearch()) { $("search-error").textContent = e.message; return; }
    logout(); $("login-error").textContent = e.message; return;
  }
  show("timeline-view");
  $("back").hidden = !canSearch();
  $("tl-title").textContent = tl.session.session_id;
  const dl = $("tl-meta");
  dl.replaceChildren();
  const add = (k, v) => dl.append(el("dt", "", k), el("dd", "", v));
  add("application", tl.session.application_name || "");
  add("created", fmtTime(tl.session.created_at));
  for (const [k, v] of Object.entries(tl.session.metadata || {})) add("metadata." + k, JSON.stringify(v));
  const ol = $("timeline");
  ol.replaceChildren(...tl.events.map(renderEvent));
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
    login({ session_id: id, password: pw }, { sessionId: id, password: pw });
  });
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    state.query = queryFromForm();
    state.cursors = [];
    search("");
  });
  $("next-page").addEventListener("click", () => { state.cursors.push(state.next); search(state.next); });
  $("first-page").addEventListener("click", () => { state.cursors = []; search(""); });
  $("back").addEventListener("click", () => show("search-view"));
  $("logout").addEventListener("click", logout);
  state.query = "limit=20";
  const saved = sessionStorage.getItem("sessionkit-auth");
  if (saved) { state.auth = JSON.parse(saved); start(); } else { show("login-view"); }
});
