#!/usr/bin/env node
// Runs the compiled CLI when built (the container), else the TypeScript source through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  await import("tsx/esm");
  await import(new URL("../src/cli.ts", import.meta.url).href);
}
