// Parses every ```mermaid block of the Markdown files named on the command line with
// Mermaid's own parser (the one its renderer runs first), and exits 1 if any block is
// refused, naming the file, the block and Mermaid's message. Installed with its packages by
// scripts/install-mermaid.sh, which runs it from its own directory so that `mermaid` and
// `jsdom` resolve there.
//
// Mermaid's parser expects a browser: jsdom gives it a window and a document (DOMPurify,
// which sanitizes labels, needs them); nothing is rendered or fetched.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let parsed = 0;
let refused = 0;
for (const path of process.argv.slice(2)) {
  const text = readFileSync(path, 'utf8');
  const blocks = [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  for (const [index, block] of blocks.entries()) {
    try {
      await mermaid.parse(block);
      parsed += 1;
    } catch (error) {
      refused += 1;
      console.error(`${path}: mermaid block ${index + 1}: ${String(error.message ?? error)}`);
    }
  }
}
console.log(`mermaid-parse: ${parsed} parsed, ${refused} refused`);
process.exit(refused === 0 ? 0 : 1);
