// Knowledge-base picker on the ticket page: search published articles and insert a link
// or the article's text into the reply.
//
// Hook for the composer: text goes to window.AutoCRM.composerInsert(text) when an editor
// defines it (a rich-text composer), else into the composer's textarea at the cursor.
(function () {
  "use strict";
  // Delegated from the document: the ticket page replaces the composer after each send.
  var timer = null;

  function insert(text) {
    var hook = window.AutoCRM && window.AutoCRM.composerInsert;
    if (typeof hook === "function") { hook(text); return; }
    var area = document.getElementById("composer-body");
    if (!area) return;
    var start = area.selectionStart || 0, end = area.selectionEnd || 0;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function show(list, items) {
    list.textContent = "";
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No published article matches.";
      list.appendChild(none);
      return;
    }
    items.forEach(function (item) {
      var li = document.createElement("li");
      var title = document.createElement("span");
      title.className = "kb-picker-title";
      title.textContent = item.title + (item.internal ? " (agents only)" : "");
      li.appendChild(title);
      if (item.url) li.appendChild(button("Insert link", function () { insert(item.title + ": " + item.url); }));
      li.appendChild(button("Insert text", function () { insert(item.text); }));
      list.appendChild(li);
    });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    var root = input.closest && input.closest("[data-kb-picker]");
    if (!root || input.type !== "search") return;
    var list = root.querySelector("[data-kb-picker-results]");
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { list.textContent = ""; return; }
    timer = setTimeout(function () {
      fetch(root.dataset.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { show(list, data.items); });
    }, 200);
  });
})();
