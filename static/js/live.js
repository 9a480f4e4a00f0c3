/* The workspace's live socket: queues, counts and the open ticket follow what others do,
   presence ("Ana is replying"), the collision warning, notifications, and a banner with
   reconnect + re-sync when the socket drops. The socket only names what changed; the page
   fetches what it shows through the ordinary (permission-checked) pages.
   Design: docs/adr/0008-realtime.md. Tested by autocrm/realtime/tests/test_live_browser.py. */
(function () {
  "use strict";

  var meta = document.getElementById("autocrm-live");
  if (!meta || !window.WebSocket || !window.fetch) { return; }

  var RECONNECT_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  var QUEUE_DEBOUNCE_MS = 300;
  var COUNTS_EVERY_MS = 10000;
  var PRESENCE_EVERY_MS = 30000;
  var PRESENCE_EXPIRES_MS = 75000;
  var REPLYING_IDLE_MS = 20000;

  var me = parseInt(meta.getAttribute("data-me"), 10);
  var socket = null;
  var cursor = null;
  var firstSync = false;
  var attempt = 0;
  var wasConnected = false;
  var seen = {};
  var refused = false;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // --- announcements (screen readers) and the banner --------------------------------------

  // Announcements close together are read as one (a reply and its status change).
  var spoken = [];
  var spokenTimer = null;

  function announce(text) {
    var region = $("#live-announcer");
    if (!region) {
      region = document.createElement("div");
      region.id = "live-announcer";
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    if (spoken.indexOf(text) < 0) { spoken.push(text); }
    window.clearTimeout(spokenTimer);
    spokenTimer = window.setTimeout(function () {
      region.textContent = spoken.join(" ");
      spoken = [];
    }, 150);
  }

  function banner(text) {
    var node = $("#live-banner");
    if (!text) {
      if (node) { node.hidden = true; }
      return;
    }
    if (!node) {
      node = document.createElement("div");
      node.id = "live-banner";
      node.className = "alert alert-warning live-banner";
      node.setAttribute("role", "status");
      document.body.appendChild(node);
    }
    node.textContent = text;
    node.hidden = false;
  }

  // --- the socket -------------------------------------------------------------------------

  function socketUrl() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + meta.getAttribute("data-url");
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
  }

  function connect() {
    socket = new WebSocket(socketUrl());
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message && typeof message === "object") { receive(message); }
    };
    socket.onclose = function (event) {
      socket = null;
      document.documentElement.removeAttribute("data-live");
      if (event.code === 4403) {
        refused = true;
        banner("Live updates are off: your session ended or your access changed. Reload the page.");
        return;
      }
      var delay = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)] * (0.75 + Math.random() * 0.5);
      attempt += 1;
      // A socket that was up and dropped says so; one that never opened retries quietly
      // (the page works without it, only not live).
      if (wasConnected) { banner("Connection lost: live updates are paused. Reconnecting…"); }
      window.setTimeout(connect, delay);
    };
  }

  function receive(message) {
    switch (message.type) {
      case "hello":
        attempt = 0;
        document.documentElement.setAttribute("data-live", "on");
        if (cursor === null) {
          cursor = message.cursor;
          // What changed between reading this page and this socket opening: replayed like
          // live events (a second or two of them, usually none).
          // Events the page could already read (id <= data-shown) are not named again: they
          // would count as new what the page shows. The server only says how many there were.
          var rendered = parseInt(meta.getAttribute("data-rendered") || "", 10);
          var shown = parseInt(meta.getAttribute("data-shown") || "", 10);
          if (rendered > 0) {
            firstSync = true;
            send({ type: "resync", after: 0, since: rendered, shown: shown > 0 ? shown : 0 });
          }
        } else {
          send({ type: "resync", after: cursor });
        }
        if (wasConnected) {
          banner("");
          announce("Reconnected: live updates resumed.");
        }
        wasConnected = true;
        watchTicket();
        break;
      case "resync.needed":
        if (cursor !== null) { send({ type: "resync", after: cursor }); }
        break;
      case "resync.done":
        cursor = Math.max(cursor || 0, message.cursor || 0);
        // The first one only replays the moments before the socket: its events did what
        // live ones do, so the page refetches nothing more unless the replay was cut short.
        if (firstSync) {
          firstSync = false;
          if (message.complete !== false) {
            // Events the page may already show (or that committed just after it was read):
            // re-read and show only real differences, never counted as "updated".
            if (message.unsure > 0) {
              refreshQueue(false);
              refreshCounts(false);
              refreshTicket(null);
            }
            break;
          }
        }
        // Whatever happened while away: the page shows it again, as the server has it now.
        refreshQueue(true);
        refreshCounts(true);
        refreshTicket(null);
        refreshBadge();
        break;
      case "ticket":
      case "ticket.gone":
        if (seen[message.id]) { return; }
        seen[message.id] = true;
        cursor = Math.max(cursor || 0, message.id);
        onTicketEvent(message);
        break;
      case "presence":
        onPresence(message);
        break;
      case "notification":
        onNotification(message);
        break;
    }
  }

  // --- queue: rows and counts -------------------------------------------------------------

  var queueTimer = null;
  var changedNumbers = {};
  var countsTimer = null;
  var countsAt = 0;

  function onTicketEvent(message) {
    // Triage's result changes no queue column by itself (what it applies is a ticket.updated
    // of its own): only an open ticket page refreshes, for its AI panel.
    if (message.event === "ai.ticket.triaged") { onTicketPageEvent(message); return; }
    if (message.number) { changedNumbers[message.number] = message.type; }
    if ($("[data-queue]")) {
      window.clearTimeout(queueTimer);
      queueTimer = window.setTimeout(function () { refreshQueue(false); }, QUEUE_DEBOUNCE_MS);
      refreshCounts(false);
    }
    onTicketPageEvent(message);
  }

  function queueRowsUrl() {
    var header = $(".queue-header");
    var form = $("form.queue-filter");
    if (!header || !form) { return null; }
    var url = new URL(form.getAttribute("action"), window.location.href);
    url.searchParams.set("view", header.getAttribute("data-view") || "");
    url.searchParams.set("q", header.getAttribute("data-q") || "");
    url.searchParams.set("rows", "1");
    return url.toString();
  }

  function refreshQueue(force) {
    var url = queueRowsUrl();
    if (!url) { return; }
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { mergeRows(html, force); } })
      .catch(function () { /* the socket's banner says what is wrong */ });
  }

  function numberOf(row) { return row.getAttribute("data-number"); }

  // Inserting rows under the agent's pointer (or around a selection, or below pages they
  // loaded) would move what they are about to click: then a marker offers the update.
  function unsafeToMove(tbody) {
    return tbody.matches(":hover") ||
      $$("input[name=ids]:checked", tbody).length > 0 ||
      tbody.hasAttribute("data-more-loaded");
  }

  function mergeRows(html, force) {
    var tbody = $("[data-queue] tbody");
    if (!tbody) { return; }
    var incoming = document.createElement("tbody");
    incoming.innerHTML = html;
    var before = $$("[data-row]", tbody).map(numberOf);
    var after = $$("[data-row]", incoming).map(numberOf);
    var added = after.filter(function (n) { return before.indexOf(n) < 0; });
    var removed = before.filter(function (n) { return after.indexOf(n) < 0; });
    var updated = after.filter(function (n) { return before.indexOf(n) >= 0 && changedNumbers[n]; });
    changedNumbers = {};
    if (!force && !added.length && !removed.length && !updated.length) { return; }
    if (!force && unsafeToMove(tbody)) {
      pendingRows = html;
      showMarker(added.length, updated.length + removed.length);
      return;
    }
    applyRows(tbody, incoming, added.concat(updated));
    var parts = [];
    if (added.length) { parts.push(added.length + " new"); }
    if (updated.length) { parts.push(updated.length + " updated"); }
    if (removed.length) { parts.push(removed.length + " left this view"); }
    if (parts.length) { announce("Tickets: " + parts.join(", ") + "."); }
  }

  var pendingRows = null;

  function showMarker(added, changed) {
    var marker = $("#live-marker");
    if (!marker) {
      marker = document.createElement("button");
      marker.id = "live-marker";
      marker.type = "button";
      marker.className = "live-marker";
      marker.addEventListener("click", function () {
        var tbody = $("[data-queue] tbody");
        if (tbody && pendingRows !== null) {
          var incoming = document.createElement("tbody");
          incoming.innerHTML = pendingRows;
          tbody.removeAttribute("data-more-loaded");
          applyRows(tbody, incoming, []);
        }
        pendingRows = null;
        marker.hidden = true;
      });
      var wrap = $(".queue-table-wrap");
      if (!wrap) { return; }
      wrap.parentNode.insertBefore(marker, wrap);
    }
    var total = (marker.hidden ? 0 : parseInt(marker.getAttribute("data-count") || "0", 10)) + added + changed;
    total = Math.max(total, 1);
    marker.setAttribute("data-count", String(total));
    marker.textContent = (added && !changed ? total + " new" : total + " new or updated") + " · show";
    marker.hidden = false;
    announce(marker.textContent.replace(" · show", "") + " tickets: press the button above the table to show them.");
  }

  function applyRows(tbody, incoming, fresh) {
    var checked = $$("input[name=ids]:checked", tbody).map(function (box) { return box.value; });
    var currentRow = $("[data-row].is-current", tbody);
    var current = currentRow ? numberOf(currentRow) : null;
    var focusInside = tbody.contains(document.activeElement);
    tbody.innerHTML = incoming.innerHTML;
    checked.forEach(function (id) {
      var box = $("input[name=ids][value='" + id + "']", tbody);
      if (box) { box.checked = true; }
    });
    if (current) {
      var again = $("[data-row][data-number='" + current + "']", tbody);
      if (again) {
        again.classList.add("is-current");
        if (focusInside) { var link = $(".row-link", again); if (link) { link.focus({ preventScroll: true }); } }
      }
    }
    fresh.forEach(function (n) {
      var row = $("[data-row][data-number='" + n + "']", tbody);
      if (row) { row.classList.add("is-fresh"); }
    });
    if (window.htmx) { window.htmx.process(tbody); }
    var box = $("input[name=ids]", tbody);
    if (box) { box.dispatchEvent(new Event("change", { bubbles: true })); }
    var marker = $("#live-marker");
    if (marker) { marker.hidden = true; }
  }

  // "Show more" appends a page: from then on, updates wait behind the marker.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.closest && target.closest("[data-queue] tbody")) {
      var tbody = $("[data-queue] tbody");
      if (tbody && $$("[data-row]", tbody).length > 50) { tbody.setAttribute("data-more-loaded", ""); }
    }
  });

  function refreshCounts(force) {
    var nav = $("#queue-nav");
    if (!nav || !window.htmx) { return; }
    var wait = force ? 0 : Math.max(0, countsAt + COUNTS_EVERY_MS - Date.now());
    if (countsTimer) { return; }
    countsTimer = window.setTimeout(function () {
      countsTimer = null;
      countsAt = Date.now();
      var url = nav.getAttribute("hx-get");
      var header = $(".queue-header");
      if (header) { url = url.replace(/view=[^&]*/, "view=" + encodeURIComponent(header.getAttribute("data-view") || "")); }
      window.htmx.ajax("GET", url, { target: "#queue-nav", swap: "outerHTML" });
    }, wait);
  }

  // --- the open ticket --------------------------------------------------------------------

  function ticketMain() { return $("#ticket-main"); }
  function ticketNumber() {
    var main = ticketMain();
    return main ? parseInt(main.getAttribute("data-ticket"), 10) : null;
  }

  function onTicketPageEvent(message) {
    var number = ticketNumber();
    if (!number || message.number !== number) { return; }
    if (message.type === "ticket.gone") {
      notice("This ticket was moved out of your teams: you can no longer follow it here.");
      return;
    }
    if (message.mine) { return; }  // this tab (or another of yours) already shows it
    // A reply and the status change it caused arrive together: one refresh, one sentence.
    ticketPending.push(message);
    window.clearTimeout(ticketTimer);
    ticketTimer = window.setTimeout(function () {
      var batch = ticketPending;
      ticketPending = [];
      refreshTicket(batch);
    }, QUEUE_DEBOUNCE_MS);
  }

  var ticketPending = [];
  var ticketTimer = null;

  function notice(text) {
    var main = ticketMain();
    if (!main) { return; }
    var node = $("#live-ticket-notice");
    if (!node) {
      node = document.createElement("div");
      node.id = "live-ticket-notice";
      node.className = "alert alert-info live-ticket-notice";
      node.setAttribute("role", "status");
      var header = $(".ticket-header", main);
      header.parentNode.insertBefore(node, header.nextSibling);
    }
    node.textContent = text;
  }

  function describe(message) {
    if (message.event === "ai.ticket.triaged") { return "AI triage finished"; }
    var who = message.actor_name || "Someone";
    if (message.event === "message.created") {
      return who + (message.public ? " replied" : " added an internal note");
    }
    if (message.event === "attachment.created") { return who + " attached a file"; }
    if (message.fields && message.fields.length) {
      return who + " changed " + message.fields.map(function (f) { return f.replace(/_id$/, "").replace(/_/g, " "); }).join(", ");
    }
    return who + " updated this ticket";
  }

  function refreshTicket(batch) {
    var main = ticketMain();
    if (!main) { return; }
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("ticket-main");
        if (!fresh) { return; }
        var before = $$(".messages > li", main).length;
        [".ticket-title", ".messages", "[aria-labelledby='history-title']", "[data-ai-triage-block]"].forEach(function (selector) {
          var old = $(selector, main);
          var replacement = $(selector, fresh);
          if (old && replacement) { old.replaceWith(document.importNode(replacement, true)); }
        });
        var form = $("form[data-properties]", main);
        var freshForm = $("form[data-properties]", fresh);
        if (form && freshForm && !form.contains(document.activeElement)) {
          form.replaceWith(document.importNode(freshForm, true));
          if (window.htmx) { window.htmx.process($("form[data-properties]", main)); }
        }
        $$(".messages > li", main).slice(before).forEach(function (li) { li.classList.add("is-fresh"); });
        if (batch && batch.length) {
          var texts = [];
          batch.forEach(function (message) {
            var text = describe(message) + ".";
            if (texts.indexOf(text) < 0) { texts.push(text); }
            if (message.event === "message.created") { collision(message); }
          });
          announce(texts.join(" "));
        }
      })
      .catch(function () { /* the banner covers a lost connection */ });
  }

  // Someone else replied while this agent has a reply in the composer: say so before they
  // send (the server asks again on send: the form carries the last message it showed).
  function collision(message) {
    var form = $("#composer");
    var body = form && form.elements.body;
    if (!form || !body || !body.value.trim()) { return; }
    var warning = $("#collision-warning");
    if (!warning) {
      warning = document.createElement("div");
      warning.id = "collision-warning";
      warning.className = "alert alert-warning";
      warning.setAttribute("role", "alert");
      form.parentNode.insertBefore(warning, form);
    }
    warning.textContent = (message.actor_name || "Someone") + (message.public ? " replied" : " added a note") +
      " while you were writing. Read it above before you send yours.";
  }

  // --- presence ---------------------------------------------------------------------------

  var others = {};
  var myState = "viewing";
  var presenceTimer = null;
  var idleTimer = null;

  function watchTicket() {
    var number = ticketNumber();
    if (!number) { return; }
    others = {};
    renderPresence();
    send({ type: "watch", ticket: number });
    if (myState !== "viewing") { send({ type: "presence", state: myState }); }
    window.clearInterval(presenceTimer);
    presenceTimer = window.setInterval(function () {
      send({ type: "presence", state: myState });
      renderPresence();
    }, PRESENCE_EVERY_MS);
  }

  function setState(state) {
    if (state === myState) { return; }
    myState = state;
    send({ type: "presence", state: state });
  }

  document.addEventListener("input", function (event) {
    if (!event.target.closest || !event.target.closest("#composer")) { return; }
    setState("replying");
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () { setState("viewing"); }, REPLYING_IDLE_MS);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // A sent reply or a new ticket page: back to viewing; the composer may be new.
    if (event.detail && event.detail.target && event.detail.target.id === "ticket-main") {
      setState("viewing");
    }
  });

  function onPresence(message) {
    if (message.user === me) { return; }
    if (message.state === "left") {
      delete others[message.conn];
    } else {
      others[message.conn] = { user: message.user, name: message.name, state: message.state, at: Date.now() };
    }
    renderPresence();
  }

  function renderPresence() {
    var main = ticketMain();
    if (!main) { return; }
    var node = $("#presence", main);
    if (!node) {
      node = document.createElement("p");
      node.id = "presence";
      node.className = "presence";
      node.setAttribute("aria-live", "polite");
      var title = $(".ticket-header", main);
      if (!title) { return; }
      title.appendChild(node);
    }
    var now = Date.now();
    var byUser = {};
    Object.keys(others).forEach(function (conn) {
      var other = others[conn];
      if (now - other.at > PRESENCE_EXPIRES_MS) { delete others[conn]; return; }
      var known = byUser[other.user];
      if (!known || other.state === "replying") { byUser[other.user] = other; }
    });
    var people = Object.keys(byUser).map(function (id) { return byUser[id]; });
    node.textContent = "";
    people.forEach(function (person) {
      var chip = document.createElement("span");
      chip.className = "presence-chip presence-" + person.state;
      chip.textContent = person.name + (person.state === "replying" ? " is replying" : " is viewing");
      node.appendChild(chip);
    });
    node.hidden = people.length === 0;
  }

  // --- notifications ----------------------------------------------------------------------

  function onNotification(message) {
    setBadge(message.unread);
    var n = message.notification || {};
    if (n.subject) { announce("Notification: " + n.subject); }
    document.dispatchEvent(new CustomEvent("autocrm:notification", { detail: message }));
  }

  function setBadge(unread) {
    $$("[data-notifications-badge]").forEach(function (badge) {
      if (typeof unread !== "number") { return; }
      badge.textContent = unread > 99 ? "99+" : String(unread);
      badge.hidden = unread === 0;
      badge.setAttribute("aria-label", unread + " unread notifications");
    });
  }

  function refreshBadge() {
    var badge = $("[data-notifications-badge]");
    var url = badge && badge.getAttribute("data-count-url");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { setBadge(data.unread); } })
      .catch(function () { /* retried after the next re-sync */ });
  }

  // --- start ------------------------------------------------------------------------------

  window.addEventListener("pagehide", function () {
    if (socket) { socket.onclose = null; socket.close(1000); }
  });

  refreshBadge();
  if (!refused) { connect(); }
})();
