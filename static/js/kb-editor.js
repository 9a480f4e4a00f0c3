// The article editor: a live preview rendered by the server (the same markdown rendering and
// checks as saving), and image upload that inserts the image's markdown at the cursor.
(function () {
  "use strict";
  var form = document.querySelector(".kb-editor");
  if (!form) return;
  var source = form.querySelector("[data-kb-source]");
  var preview = form.querySelector("[data-kb-preview]");
  var problems = form.querySelector("[data-kb-problems]");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var sent = 0;

  function render() {
    var mine = ++sent;
    var body = new FormData();
    body.append("body", source.value);
    fetch(form.dataset.previewUrl, { method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || mine !== sent) return; // an older answer arriving late
        preview.innerHTML = data.html; // sanitized by the server (nh3)
        problems.textContent = data.problems.join(" ");
      });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(render, 250);
  });
  render();

  function insertAtCursor(text) {
    var start = source.selectionStart, end = source.selectionEnd;
    source.value = source.value.slice(0, start) + text + source.value.slice(end);
    source.selectionStart = source.selectionEnd = start + text.length;
    source.focus();
    render();
  }

  var picker = form.querySelector("[data-kb-upload]");
  var uploadError = form.querySelector("[data-kb-upload-error]");
  picker.addEventListener("change", function () {
    var file = picker.files[0];
    if (!file) return;
    uploadError.textContent = "";
    var body = new FormData();
    body.append("file", file);
    fetch(form.dataset.uploadUrl, { method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
      .then(function (r) { return r.json().catch(function () { return { error: "The upload failed (" + r.status + ")." }; }); })
      .then(function (data) {
        if (data.error) { uploadError.textContent = data.error; return; }
        insertAtCursor("\n" + data.markdown + "\n");
      })
      .catch(function () { uploadError.textContent = "The upload failed; try again."; })
      .finally(function () { picker.value = ""; });
  });
})();
