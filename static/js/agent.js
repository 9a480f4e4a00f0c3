/* The agent workspace's keyboard, selection and drafts. No framework: htmx swaps the
   server's HTML, this file keeps focus, selection counts and drafts right around it.
   Tested end to end by autocrm/workspace/tests/test_agent_browser.py. */
(function () {
  "use strict";

  var DRAFT_DELAY_MS = 300;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "input" && (target.type === "checkbox" || target.type === "radio")) { return false; }
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // --- queue: the current row, selection -------------------------------------------------

  function rows() { return $$("[data-row]"); }

  function currentIndex() {
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("is-current")) { return i; }
    }
    return -1;
  }

  function setCurrent(index) {
    var list = rows();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row) { row.classList.remove("is-current"); });
    var row = list[index];
    row.classList.add("is-current");
    var link = $(".row-link", row);
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  function updateSelection() {
    var boxes = $$("input[name=ids]");
    var chosen = boxes.filter(function (box) { return box.checked; }).length;
    var count = $("[data-selected-count]");
    if (count) { count.textContent = chosen + " selected"; }
    var apply = $("[data-bulk-apply]");
    if (apply) { apply.disabled = chosen === 0; }
    var all = $("[data-select-all]");
    if (all) {
      all.checked = chosen > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    $$("[data-row]").forEach(function (row) {
      var box = $("input[name=ids]", row);
      row.classList.toggle("is-selected", !!(box && box.checked));
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      $$("input[name=ids]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], input[name=ids]")) { updateSelection(); }
  });

  // A click on a row (not on a control) makes it current; the subject link opens it.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("[data-row]");
    if (row && !event.target.closest("a, input, button, select, label")) {
      setCurrent(rows().indexOf(row));
    }
  });

  // --- drafts: one per ticket, in this browser ------------------------------------------

  function draftForms(root) {
    var forms = $$("form[data-draft-key]", root);
    if (root && root.matches && root.matches("form[data-draft-key]")) { forms.push(root); }
    return forms;
  }

  function setupDrafts(root) {
    draftForms(root).forEach(function (form) {
      var key = form.getAttribute("data-draft-key");
      var body = form.elements.body;
      if (!body || form.hasAttribute("data-draft-ready")) { return; }
      form.setAttribute("data-draft-ready", "");
      if (form.hasAttribute("data-sent")) {
        localStorage.removeItem(key);  // the server took it: nothing left to restore
      } else if (!body.value) {
        var saved = null;
        try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
        if (saved && typeof saved.body === "string") {
          body.value = saved.body;
          var kind = form.querySelector("input[name=kind][value='" + saved.kind + "']");
          if (kind) { kind.checked = true; }
          form.classList.add("has-draft");
        }
      }
      markKind(form);
      var timer = null;
      function save() {
        var kind = form.querySelector("input[name=kind]:checked");
        if (body.value) {
          localStorage.setItem(key, JSON.stringify({ body: body.value, kind: kind ? kind.value : "public" }));
        } else {
          localStorage.removeItem(key);
        }
      }
      form.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(save, DRAFT_DELAY_MS);
      });
      form.addEventListener("change", function () { markKind(form); save(); });
      window.addEventListener("pagehide", save);
    });
  }

  function markKind(form) {
    var kind = form.querySelector("input[name=kind]:checked");
    var note = !!(kind && kind.value === "note");
    form.classList.toggle("is-note", note);
    var send = form.querySelector("[data-composer-send]");
    if (send) {
      // After a collision (someone wrote meanwhile) the server asks to confirm: keep its label.
      send.textContent = form.hasAttribute("data-collision") ? "Send anyway" : (note ? "Add note" : "Send reply");
    }
  }

  function compose(kind) {
    var form = $("#composer");
    if (!form) { return false; }
    var radio = form.querySelector("input[name=kind][value=" + kind + "]");
    if (!radio) { return false; }
    radio.checked = true;
    markKind(form);
    form.elements.body.focus();
    return true;
  }

  // a / e on a ticket: change one property and save the panel (same stale-form check).
  function saveProperty(name, value) {
    var form = $("form[data-properties]");
    var field = form && form.elements[name];
    if (!field || field.disabled) { return false; }
    if (value === "me") { value = form.getAttribute("data-me"); }
    if (!field.querySelector("option[value='" + value + "']")) { return false; }
    field.value = value;
    // A key pressed before htmx initialised the page would post the form natively (a full
    // page load that drops the inline "Saved."): make sure htmx handles this submit.
    if (window.htmx) { window.htmx.process(form); }
    form.requestSubmit();
    return true;
  }

  // --- undo send: the reply leaves this browser only after a few seconds ----------------
  // The draft is saved before the countdown, so a reload or a closed tab during it loses
  // nothing: the message comes back as a draft, unsent. Undo returns to editing.

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-undo-seconds]")) { return; }
    var seconds = parseInt(form.getAttribute("data-undo-seconds"), 10) || 0;
    var card = form.closest(".composer-card");
    var bar = card && $("[data-undo-bar]", card);
    if (tooLong(form)) { event.preventDefault(); return; }
    if (seconds <= 0 || !bar || !form.elements.body.value.trim()) { return; }
    event.preventDefault();
    form.dispatchEvent(new Event("change", { bubbles: true }));  // saves the draft now
    var send = $("[data-composer-send]", form);
    var text = $("[data-undo-text]", bar);
    var undo = $("[data-undo-button]", bar);
    var left = seconds;
    var label = function () {
      text.textContent = (form.classList.contains("is-note") ? "Adding the note" : "Sending the reply") +
        " in " + left + " s…";
    };
    form.classList.add("is-sending");
    if (send) { send.disabled = true; }
    label();
    bar.hidden = false;
    undo.hidden = false;
    undo.focus();
    var tick = setInterval(function () { left -= 1; if (left > 0) { label(); } }, 1000);
    var timer = setTimeout(function () {
      clearInterval(tick);
      undo.onclick = null;
      undo.hidden = true;  // on its way: nothing left to undo
      text.textContent = "Sending…";
      event.detail.issueRequest(true);
    }, seconds * 1000);
    undo.onclick = function () {
      clearTimeout(timer);
      clearInterval(tick);
      editAgain(form);
    };
  });

  // The editor writes the hidden textarea itself, so its maxlength never stops a long text:
  // say so before sending rather than after the countdown.
  function tooLong(form) {
    var body = form.elements.body;
    var max = parseInt(body.getAttribute("maxlength") || "0", 10);
    var node = $("[data-body-error]", form);
    if (!max || body.value.length <= max) {
      if (node) { node.textContent = ""; }
      return false;
    }
    if (node) {
      node.textContent = "The message is too long: " + body.value.length.toLocaleString("en") +
        " characters, and a message can be at most " + max.toLocaleString("en") +
        ". Shorten it or attach the text as a file.";
    }
    return true;
  }

  // Back to editing: after Undo, or when the request failed (no connection, a refusal the
  // page does not swap in). The text is still in the composer and saved as a draft, so the
  // agent can send again without a reload.
  function editAgain(form) {
    var card = form.closest(".composer-card");
    var bar = card && $("[data-undo-bar]", card);
    if (bar) { bar.hidden = true; }
    form.classList.remove("is-sending");
    var send = $("[data-composer-send]", form);
    if (send) { send.disabled = false; }
    form.elements.body.focus();
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-undo-seconds]")) { return; }
    // An answer the page shows replaced the ticket, and this form with it, before this event;
    // a form still on the page means no answer (no connection) or one not shown (too large).
    if (form.isConnected) { editAgain(form); }
  });

  // --- files: a clear message before a too-large upload is sent -------------------------

  function megabytes(bytes) { return (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "") + " MB"; }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var error = input.parentNode.querySelector("[data-file-error]");
    var message = "";
    Array.prototype.forEach.call(input.files, function (file) {
      if (!message && file.size > max) {
        message = "“" + file.name + "” is " + megabytes(file.size) + "; a file can be at most " + megabytes(max) + ".";
      }
    });
    if (message) { input.value = ""; }
    if (error) { error.textContent = message; }
  });

  // --- the server did not answer: say so, keep what was typed -----------------------------

  function banner(text) {
    var node = $("#connection-banner");
    if (!node) {
      node = document.createElement("div");
      node.id = "connection-banner";
      node.className = "alert alert-error connection-banner";
      node.setAttribute("role", "alert");
      document.body.appendChild(node);
    }
    node.textContent = text;
    node.hidden = false;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 413) {
      event.detail.shouldSwap = false;
      banner("That was too large to send: attach fewer or smaller files.");
    } else if (status >= 500) {
      banner("Something went wrong on the server; nothing was lost here. Try again.");
    } else {
      var node = $("#connection-banner");
      if (node) { node.hidden = true; }
    }
  });

  document.addEventListener("htmx:sendError", function () {
    banner("No connection to the server. Your draft is kept; try again when you are back online.");
  });

  window.addEventListener("online", function () {
    var node = $("#connection-banner");
    if (node && !node.hidden) { node.textContent = "Back online: send again when you are ready."; }
  });

  // --- after an htmx swap ---------------------------------------------------------------

  var lastCurrentNumber = null;

  document.addEventListener("htmx:beforeSwap", function () {
    var list = rows();
    var i = currentIndex();
    lastCurrentNumber = i >= 0 ? list[i].getAttribute("data-number") : null;
  });

  // The view list is re-fetched for its counts (after load, on live updates): the link the
  // agent had focused there keeps focus in the new list.
  var navFocusHref = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var nav = $("#queue-nav");
    var active = document.activeElement;
    navFocusHref = nav && active && nav.contains(active) ? active.getAttribute("href") : null;
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (navFocusHref) {
      var href = navFocusHref;
      navFocusHref = null;
      var same = $$("#queue-nav a").filter(function (a) { return a.getAttribute("href") === href; })[0];
      if (same && document.activeElement !== same) { same.focus({ preventScroll: true }); }
    }
    var header = $(".queue-header");
    if (header) {
      // The filter box shows the query of the list on screen (a view or a sort changed it).
      var q = $("#q");
      if (q && document.activeElement !== q) { q.value = header.getAttribute("data-q"); }
      var view = $("[data-view-input]");
      if (view) { view.value = header.getAttribute("data-view"); }
      $$("#queue-nav a[data-view]").forEach(function (a) {
        if (a.getAttribute("data-view") === header.getAttribute("data-view")) {
          a.setAttribute("aria-current", "page");
        } else {
          a.removeAttribute("aria-current");
        }
      });
    }
    updateSelection();
    // Focus is never left on a node the swap removed.
    if (!document.activeElement || document.activeElement === document.body) {
      var again = lastCurrentNumber && $("[data-row][data-number='" + lastCurrentNumber + "']");
      if (again) {
        setCurrent(rows().indexOf(again));
      } else if (rows().length && header) {
        setCurrent(0);
      } else {
        var main = $("#main");
        if (main) { main.focus({ preventScroll: true }); }
      }
    }
  });

  document.addEventListener("htmx:load", function (event) { setupDrafts(event.target); });

  // --- keys -----------------------------------------------------------------------------

  function go(selector) {
    var link = $(selector);
    if (link) { window.location.href = link.href; return true; }
    return false;
  }

  // g then v: to the list of views (the queue's left navigation), from any agent page.
  var G_WINDOW_MS = 1500;
  var pendingG = 0;

  function focusViews() {
    var nav = $("#queue-nav");
    if (!nav) { return false; }
    var link = $("a[aria-current=page]", nav) || $("a[data-view]", nav) || $("a", nav);
    if (link) { link.focus(); }
    return !!link;
  }

  function goViews() {
    if (focusViews()) { return true; }
    var queue = $("a.nav-link[href$='/agent/']");
    if (!queue) { return false; }
    window.location.href = queue.href + "#views";
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var dialog = $("#shortcuts");
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    if (pendingG && Date.now() - pendingG < G_WINDOW_MS) {
      pendingG = 0;
      if (event.key === "v") {
        if (goViews()) { event.preventDefault(); }
        return;
      }
    }
    pendingG = 0;
    if (event.key === "g") { pendingG = Date.now(); event.preventDefault(); return; }
    var inQueue = rows().length > 0 || !!$("[data-queue]");
    var handled = true;
    switch (event.key) {
      case "j":
        if (inQueue) { setCurrent(currentIndex() + 1); } else { handled = go("[data-next]"); }
        break;
      case "k":
        if (inQueue) { setCurrent(currentIndex() - 1); } else { handled = go("[data-prev]"); }
        break;
      case "o":
      case "Enter":
        var i = currentIndex();
        if (inQueue && i >= 0) { window.location.href = $(".row-link", rows()[i]).href; } else { handled = false; }
        break;
      case "x":
        var at = currentIndex();
        if (inQueue && at >= 0) {
          var box = $("input[name=ids]", rows()[at]);
          if (box) { box.checked = !box.checked; updateSelection(); }
        } else { handled = false; }
        break;
      case "r":
        handled = compose("public");
        break;
      case "n":
        handled = compose("note");
        break;
      case "a":
        handled = saveProperty("assignee", "me");
        break;
      case "e":
        handled = saveProperty("status", "solved");
        break;
      case "u":
        handled = go("[data-back]");
        break;
      case "/":
        var q = $("#q");
        if (q) { q.focus(); q.select(); } else { handled = go("[data-back]"); }
        break;
      case "?":
        if (dialog) {
          if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
        } else { handled = false; }
        break;
      default:
        handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setupDrafts(document);
    updateSelection();
    if (window.location.hash === "#views") { focusViews(); }
  });
})();
