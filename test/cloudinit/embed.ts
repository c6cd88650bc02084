// Builds src/cloudinit/embedded-templates.ts from templates/*.template (the bundle has no templates/ dir):
// their text, and their trees as the yaml library parses them (src/cloudinit/render.ts), so that a
// render of a built-in template parses no YAML at run time.
// Regenerate: UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts
import { isDeepStrictEqual } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTemplateText } from '../../src/cloudinit/render.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EMBEDDED_MODULE = `${ROOT}src/cloudinit/embedded-templates.ts`;

/** The templates/ files, by name. */
export function templateFiles(): [string, string][] {
  const files = readdirSync(`${ROOT}templates`).filter((f) => f.endsWith('.template')).sort();
  return files.map((f) => [f, readFileSync(`${ROOT}templates/${f}`, 'utf8')]);
}

/** A template's tree as the module carries it: plain JSON (a getter, a Date or a symbol would not survive). */
export function embeddedTree(file: string, text: string): unknown {
  const tree = parseTemplateText({ name: `built-in ${file}`, text });
  const json: unknown = JSON.parse(JSON.stringify(tree));
  if (!isDeepStrictEqual(json, tree)) throw new Error(`${file}: its tree is not plain JSON (a date, a tag's value?)`);
  return json;
}

export function embeddedModuleText(): string {
  const files = templateFiles();
  const texts = files.map(([f, text]) => `  ${JSON.stringify(f)}: ${JSON.stringify(text)},`);
  const trees = files.map(([f, text]) => `  ${JSON.stringify(f)}: ${JSON.stringify(embeddedTree(f, text))},`);
  return (
    '// GENERATED from templates/*.template by test/cloudinit/embed.ts: do not edit; edit the templates and run\n' +
    '// UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts\n' +
    "import type { TemplateNode } from './template-tree.js';\n\n" +
    `export const EMBEDDED_TEMPLATES = {\n${texts.join('\n')}\n} as const;\n\n` +
    '/** Each template as src/cloudinit/render.ts parseTemplateText reads it. */\n' +
    `export const EMBEDDED_TREES: Record<keyof typeof EMBEDDED_TEMPLATES, TemplateNode> = {\n${trees.join('\n')}\n};\n`
  );
}
