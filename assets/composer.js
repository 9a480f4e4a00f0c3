// The rich-text composer: Tiptap (ProseMirror) over the composer's <textarea name="body">.
// The textarea stays the form field: the editor writes its HTML there on every change, so
// the form posts, the drafts (agent.js, localStorage) and a no-JavaScript page all keep
// working on that one field. Bundled by scripts/build-assets.mjs (esbuild) into
// static/vendor/composer/composer.js; see docs/adr/0010-rich-text-composer.md.
//
// What it can produce is exactly what tickets.content.COMPOSER_TAGS lets through: p, br,
// strong, em, s, code, pre, ul/ol/li, blockquote, a[href], img[src, alt] and
// <span class="mention" data-user-id="ID">@Name</span>.
import { Editor, mergeAttributes } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Image from "@tiptap/extension-image";
import Mention from "@tiptap/extension-mention";

const Mentions = Mention.extend({
  addAttributes() {
    return {
      id: {
        default: null,
        parseHTML: (element) => element.getAttribute("data-user-id"),
        renderHTML: (attributes) => ({ "data-user-id": attributes.id }),
      },
      label: {
        default: null,
        parseHTML: (element) => (element.textContent || "").replace(/^@/, ""),
        renderHTML: () => ({}),
      },
    };
  },
  parseHTML() {
    return [{ tag: "span.mention[data-user-id]" }];
  },
});

function mentionables(form) {
  const node = document.getElementById(form.getAttribute("data-mentionables") || "");
  try { return node ? JSON.parse(node.textContent) : []; } catch (e) { return []; }
}

// The autocomplete list under the caret: arrow keys, Enter/Tab to pick, Escape to close.
function suggestionRenderer() {
  let list = null;
  let items = [];
  let active = 0;
  let pick = null;
  function draw() {
    list.innerHTML = "";
    items.forEach((item, i) => {
      const option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = "mention-option-" + item.id;
      option.textContent = item.label;
      option.setAttribute("aria-selected", i === active ? "true" : "false");
      option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(item); });
      list.appendChild(option);
    });
    list.hidden = items.length === 0;
  }
  function place(rect) {
    if (!rect) { return; }
    list.style.left = window.scrollX + rect.left + "px";
    list.style.top = window.scrollY + rect.bottom + 4 + "px";
  }
  return {
    onStart(props) {
      list = document.createElement("ul");
      list.className = "mention-list";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", "Teammates");
      document.body.appendChild(list);
      items = props.items; active = 0;
      pick = (item) => props.command({ id: String(item.id), label: item.label });
      draw(); place(props.clientRect && props.clientRect());
    },
    onUpdate(props) {
      items = props.items; active = 0;
      pick = (item) => props.command({ id: String(item.id), label: item.label });
      draw(); place(props.clientRect && props.clientRect());
    },
    onKeyDown({ event }) {
      if (!items.length) { return false; }
      if (event.key === "ArrowDown") { active = (active + 1) % items.length; draw(); return true; }
      if (event.key === "ArrowUp") { active = (active + items.length - 1) % items.length; draw(); return true; }
      if (event.key === "Enter" || event.key === "Tab") { pick(items[active]); return true; }
      if (event.key === "Escape") { list.hidden = true; return true; }
      return false;
    },
    onExit() { if (list) { list.remove(); list = null; } },
  };
}

function isNote(form) {
  const kind = form.querySelector("input[name=kind]:checked");
  return !!(kind && kind.value === "note");
}

// Images pasted or dropped are uploaded as attachments of the ticket and shown inline;
// other files join the form's file input (sent with the message).
async function uploadImage(form, file) {
  const data = new FormData();
  data.append("file", file, file.name || "pasted-image.png");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");
  const response = await fetch(form.getAttribute("data-upload-url"), {
    method: "POST",
    body: data,
    headers: { "X-CSRFToken": token ? token.value : "" },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { throw new Error(body.error || "The image could not be uploaded."); }
  return body;
}

function fileError(form, message) {
  const node = form.querySelector("[data-file-error]");
  if (node) { node.textContent = message; }
}

function addFiles(form, files) {
  const input = form.querySelector("input[type=file][name=files]");
  if (!input || !files.length) { return; }
  const transfer = new DataTransfer();
  Array.from(input.files).forEach((f) => transfer.items.add(f));
  files.forEach((f) => transfer.items.add(f));
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function handleFiles(form, editor, files) {
  const max = parseInt(form.querySelector("[data-max-bytes]")?.getAttribute("data-max-bytes") || "0", 10);
  const images = files.filter((f) => /^image\/(png|jpeg|gif|webp)$/.test(f.type));
  const others = files.filter((f) => !images.includes(f));
  addFiles(form, others);
  images.forEach((file) => {
    if (max && file.size > max) {
      fileError(form, "“" + (file.name || "image") + "” is too large to attach.");
      return;
    }
    uploadImage(form, file)
      .then((uploaded) => editor.chain().focus().setImage({ src: uploaded.url, alt: uploaded.filename }).run())
      .catch((error) => fileError(form, error.message));
  });
  return files.length > 0;
}

// A paste that would take the message past the form's limit is refused here, at once, with
// the numbers (the server refuses it too, but only after the undo countdown).
function tooLongPaste(form, editor, clipboard) {
  const max = parseInt(form.elements.body.getAttribute("maxlength") || "0", 10);
  if (!max || !clipboard) { return false; }
  const pasted = (clipboard.getData("text/html") || clipboard.getData("text/plain") || "").length;
  const total = pasted + (editor.isEmpty ? 0 : editor.getHTML().length);
  const node = form.querySelector("[data-body-error]");
  if (total <= max) {
    if (node) { node.textContent = ""; }
    return false;
  }
  if (node) {
    node.textContent = "That paste is too long: the message would be " + total.toLocaleString("en") +
      " characters, and a message can be at most " + max.toLocaleString("en") +
      ". Attach long text as a file instead.";
  }
  return true;
}

function toolbar(editor, form) {
  const bar = document.createElement("div");
  bar.className = "editor-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Formatting");
  const buttons = [
    ["Bold", "B", () => editor.chain().focus().toggleBold().run(), "bold"],
    ["Italic", "I", () => editor.chain().focus().toggleItalic().run(), "italic"],
    ["Bulleted list", "•", () => editor.chain().focus().toggleBulletList().run(), "bulletList"],
    ["Numbered list", "1.", () => editor.chain().focus().toggleOrderedList().run(), "orderedList"],
    ["Code", "</>", () => editor.chain().focus().toggleCode().run(), "code"],
    ["Link", "Link", () => {
      const previous = editor.getAttributes("link").href || "";
      const href = window.prompt("Link address (https://…)", previous);
      if (href === null) { return; }
      if (href === "") { editor.chain().focus().unsetLink().run(); return; }
      editor.chain().focus().extendMarkRange("link").setLink({ href }).run();
    }, "link"],
  ];
  buttons.forEach(([label, text, run, mark]) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "editor-button";
    button.textContent = text;
    button.setAttribute("aria-label", label);
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("data-mark", mark);
    // A click leaves the focus (and the selection) in the editor: the button taking it would
    // hand it back only on the next frame (Tiptap's focus()), so keys typed right after the
    // click reached the page's shortcuts ("e" solves the ticket) instead of the text.
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", run);
    bar.appendChild(button);
  });
  editor.on("transaction", () => {
    bar.querySelectorAll("[data-mark]").forEach((b) => {
      b.setAttribute("aria-pressed", editor.isActive(b.getAttribute("data-mark")) ? "true" : "false");
    });
  });
  return bar;
}

function mount(form) {
  const textarea = form.elements.body;
  if (!textarea || form.hasAttribute("data-editor-ready")) { return; }
  form.setAttribute("data-editor-ready", "");
  const people = mentionables(form);
  const host = document.createElement("div");
  host.className = "editor";
  textarea.insertAdjacentElement("beforebegin", host);
  textarea.hidden = true;
  textarea.removeAttribute("required");  // the editor checks for an empty message itself
  let editor = null;
  editor = new Editor({
    element: host,
    content: textarea.value,
    extensions: [
      StarterKit.configure({
        heading: false,
        horizontalRule: false,
        underline: false,
        link: { openOnClick: false, autolink: true, protocols: ["mailto"] },
      }),
      Image.configure({ inline: true }),
      Mentions.configure({
        HTMLAttributes: { class: "mention" },
        renderText: ({ node }) => "@" + node.attrs.label,
        renderHTML: ({ node, options }) => [
          "span",
          mergeAttributes({ class: "mention" }, { "data-user-id": node.attrs.id }),
          "@" + node.attrs.label,
        ],
        suggestion: {
          char: "@",
          // Mentions notify: they belong in internal notes only.
          allow: () => isNote(form),
          items: ({ query }) => people
            .filter((p) => p.label.toLowerCase().includes(query.toLowerCase()))
            .slice(0, 8),
          render: suggestionRenderer,
        },
      }),
    ],
    editorProps: {
      attributes: {
        class: "editor-content",
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": "Message",
        "data-placeholder": textarea.getAttribute("placeholder") || "",
      },
      handlePaste: (view, event) => tooLongPaste(form, editor, event.clipboardData)
        || handleFiles(form, editor, Array.from(event.clipboardData?.files || [])),
      handleDrop: (view, event) => handleFiles(form, editor, Array.from(event.dataTransfer?.files || [])),
    },
    onUpdate: ({ editor: e }) => {
      textarea.value = e.isEmpty ? "" : e.getHTML();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));  // drafts save on input
    },
  });
  host.insertAdjacentElement("beforebegin", toolbar(editor, form));
  host.classList.toggle("is-empty", editor.isEmpty);
  editor.on("update", () => host.classList.toggle("is-empty", editor.isEmpty));
  // agent.js focuses the body field for r / n: focus the editor instead.
  textarea.focus = () => editor.commands.focus("end");
  form.composerEditor = editor;
}

function mountAll(root) {
  const scope = root && root.querySelectorAll ? root : document;
  const forms = Array.from(scope.querySelectorAll("form[data-rich-composer]"));
  if (root && root.matches && root.matches("form[data-rich-composer]")) { forms.push(root); }
  forms.forEach(mount);
}

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Other tools insert plain text at the cursor (the knowledge-base picker, kb-picker.js):
// paragraphs on blank lines, line breaks kept, never parsed as HTML.
function composerInsert(text) {
  const form = document.getElementById("composer");
  const editor = form && form.composerEditor;
  if (!editor) { return; }
  const html = String(text).split(/\n\s*\n/).filter((p) => p.trim())
    .map((p) => "<p>" + escapeHtml(p).replace(/\n/g, "<br>") + "</p>").join("");
  editor.chain().focus().insertContent(html).run();
}

window.AutoCRMComposer = { mount, mountAll };
window.AutoCRM = Object.assign(window.AutoCRM || {}, { composerInsert });
// After agent.js restored a draft into the textarea (both run on DOMContentLoaded and on
// htmx:load; this file loads after agent.js, so its listeners run second).
document.addEventListener("DOMContentLoaded", () => mountAll(document));
document.addEventListener("htmx:load", (event) => mountAll(event.target));
