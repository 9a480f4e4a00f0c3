// The embeddable help widget: a "Help" button on the customer's own site that opens a panel
// with the help centre's widget pages (knowledge-base search and the assistant; links open
// articles and the request form in a new tab). Shadow DOM keeps the host page's CSS out and
// ours in.
//
//   <script src="https://support.example.com/static/vendor/help-widget/help-widget.js"
//           data-help-url="https://support.example.com/acme/help/" async></script>

const script = document.currentScript;

function start() {
  const helpUrl = script && script.dataset.helpUrl;
  if (!helpUrl) {
    console.error("AutoCRM help widget: set data-help-url on the <script> tag.");
    return;
  }
  const color = (script.dataset.color || "#4f46e5").replace(/[^#0-9a-fA-F]/g, "");
  const label = script.dataset.label || "Help";

  const host = document.createElement("div");
  host.setAttribute("data-autocrm-help", "");
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });

  const style = document.createElement("style");
  style.textContent = `
    :host { all: initial; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      border: 0; border-radius: 999px; padding: 12px 20px; font: 600 15px system-ui, sans-serif;
      color: #fff; background: ${color}; box-shadow: 0 6px 20px rgba(0,0,0,.2); cursor: pointer; }
    .launcher:focus-visible { outline: 3px solid #111827; outline-offset: 2px; }
    .panel { position: fixed; right: 20px; bottom: 76px; z-index: 2147483000; width: 380px;
      max-width: calc(100vw - 40px); height: 560px; max-height: calc(100vh - 100px);
      border-radius: 14px; overflow: hidden; background: #fff;
      box-shadow: 0 12px 40px rgba(0,0,0,.25); display: none; }
    .panel.open { display: block; }
    iframe { border: 0; width: 100%; height: 100%; }
  `;
  root.appendChild(style);

  const panel = document.createElement("div");
  panel.className = "panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", label);
  const launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.textContent = label;
  launcher.setAttribute("aria-expanded", "false");

  let frame = null;
  launcher.addEventListener("click", () => {
    const open = !panel.classList.contains("open");
    if (open && !frame) {
      // Loaded on first open only: a page view costs the host site nothing until asked.
      frame = document.createElement("iframe");
      frame.title = label;
      frame.src = new URL("widget/", helpUrl.endsWith("/") ? helpUrl : helpUrl + "/").href;
      panel.appendChild(frame);
    }
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && panel.classList.contains("open")) {
      panel.classList.remove("open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }
  });
  root.append(panel, launcher);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
