// sessionkit viewer: a session's fork lineage, both ways. Where the session
// was forked from (session, agent, message) and the sessions forked from
// it, each a link to its own timeline. The forks come from
// GET /api/sessions?forked_from=<id>, which admin and API-key logins may
// call, a page at a time ("more…" loads the next); a viewer-password login
// opens one session only, so it sees the origin as plain text and no fork
// list (listing forks would name other sessions). Values go in through
// textContent.
"use strict";

// lineageRef is a session id: a link to its timeline where the login can
// open it.
function lineageRef(id) {
  if (!canSearch()) return el("span", "session-ref", id);
  const a = el("a", "session-ref", id);
  a.href = sessionHash(id);
  return a;
}

// lineageCut describes which history a fork copied: " (agent a, message 3)"
// for an agent fork, "" for a whole session.
function lineageCut(o) {
  if (!o || !o.agent_id) return "";
  return " (agent " + o.agent_id + (o.message_id !== undefined ? ", message " + o.message_id : "") + ")";
}

async function renderLineage(s) {
  const box = $("tl-lineage");
  box.hidden = true;
  box.replaceChildren();
  const from = s.forked_from;
  if (from) {
    const p = el("p", "forked-from", "Forked from ");
    p.append(lineageRef(from.session_id), document.createTextNode(lineageCut(from) + " on "), timeEl(from.at));
    box.append(p);
    box.hidden = false;
  }
  if (!canSearch()) return;
  const ul = el("ul", "forks");
  const head = el("h3", "", "");
  const more = el("button", "forks-more", "more…");
  more.type = "button";
  let shown = 0;
  // loadForks appends one page of forks (LINEAGE_PAGE at most); "more…"
  // stays while the listing has a next page, so every fork can be reached.
  const loadForks = async (cursor) => {
    let page;
    try {
      page = await api("/api/sessions?forked_from=" + encodeURIComponent(s.session_id) + "&limit=" + LINEAGE_PAGE +
        (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    } catch (_) {
      return;
    }
    if ($("tl-title").textContent !== s.session_id) return;
    const forks = (page && page.sessions) || [];
    for (const f of forks) {
      const li = el("li");
      li.append(lineageRef(f.session_id), document.createTextNode(lineageCut(f.forked_from) + " on "), timeEl(f.created_at));
      ul.append(li);
    }
    shown += forks.length;
    if (shown === 0) return;
    head.textContent = "Forks (" + shown + (page.next_cursor ? "+" : "") + ")";
    if (!head.isConnected) {
      box.append(head, ul);
      box.hidden = false;
    }
    more.hidden = !page.next_cursor;
    more.onclick = page.next_cursor ? () => { more.disabled = true; loadForks(page.next_cursor).finally(() => { more.disabled = false; }); } : null;
    if (page.next_cursor && !more.isConnected) box.append(more);
  };
  await loadForks("");
}

// LINEAGE_PAGE is how many forks one request lists; "more…" fetches the
// next page.
const LINEAGE_PAGE = 100;
