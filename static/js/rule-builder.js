// The guided rule builder (settings: SLA policies, triggers and automations). The server
// renders every row; htmx swaps a conditions/actions block (or the whole form, when the
// editor changes) after a builder button or a changed field. Here only what a swap loses:
// focus goes where the server says (data-rb-focus: the new row, the row after a removed
// one, the editor switch), and what changed is read out in the page's #rb-status.
(function () {
  "use strict";

  function settle() {
    var marked = document.querySelectorAll("[data-rb-focus], [data-rb-announce]");
    var focusId = "";
    var message = "";
    marked.forEach(function (element) {
      focusId = focusId || element.getAttribute("data-rb-focus") || "";
      message = message || element.getAttribute("data-rb-announce") || "";
      element.removeAttribute("data-rb-focus");
      element.removeAttribute("data-rb-announce");
    });
    var target = focusId && document.getElementById(focusId);
    if (target && document.activeElement !== target) target.focus();
    var status = document.getElementById("rb-status");
    if (status && message) status.textContent = message;
  }

  document.addEventListener("htmx:afterSettle", settle);
  // Without htmx a builder step is a normal POST: the new page applies the same attributes.
  document.addEventListener("DOMContentLoaded", settle);
})();
