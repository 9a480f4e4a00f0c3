// The AI panel's suggested reply: "Insert into reply" puts the draft into the composer
// (window.AutoCRM.composerInsert from the rich-text composer, else the plain textarea) and
// tells the server it was inserted: only an inserted draft is judged by the reply sent.
// Delegated from the document: htmx replaces the panel's draft after each request.
(function () {
  "use strict";

  function insert(text) {
    var hook = window.AutoCRM && window.AutoCRM.composerInsert;
    if (typeof hook === "function") { hook(text); return; }
    var area = document.getElementById("composer-body");
    if (!area) return;
    area.value = area.value ? area.value + "\n\n" + text : text;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-ai-insert]");
    if (!button) return;
    var draft = button.closest("[data-ai-draft]");
    var body = draft && draft.querySelector("[data-ai-draft-body]");
    if (!body) return;
    insert(body.value);
    var token = draft.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(button.getAttribute("data-ai-insert"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).catch(function () { /* the draft stays unused; the reply is not affected */ });
  });
})();
