// Copies the files the pages use from node_modules into static/vendor/ (served by Django),
// and bundles our own front-end modules (assets/*.js, which import npm packages) with esbuild.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
  "swagger-ui-dist/favicon-32x32.png": "swagger-ui/favicon-32x32.png",
  "@fontsource-variable/inter/index.css": "inter/index.css",
  "@fontsource-variable/inter/files": "inter/files",
};

rmSync(vendor, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(vendor, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, "node_modules", from), target, { recursive: true });
}
await build({
  entryPoints: [join(root, "assets", "composer.js")],
  outfile: join(vendor, "composer", "composer.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  legalComments: "linked",
  logLevel: "warning",
});
// The help widget customers embed on their own sites (docs/help-centre.md).
await build({
  entryPoints: [join(root, "assets", "help-widget.js")],
  outfile: join(vendor, "help-widget", "help-widget.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  logLevel: "warning",
});
console.log(`assets copied and bundled to ${vendor}`);
