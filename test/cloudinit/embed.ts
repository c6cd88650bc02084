// Builds src/cloudinit/embedded-templates.ts from templates/*.template (the bundle has no templates/ dir).
// Regenerate: UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EMBEDDED_MODULE = `${ROOT}src/cloudinit/embedded-templates.ts`;

export function embeddedModuleText(): string {
  const files = readdirSync(`${ROOT}templates`).filter((f) => f.endsWith('.template')).sort();
  const entries = files.map((f) => `  ${JSON.stringify(f)}: ${JSON.stringify(readFileSync(`${ROOT}templates/${f}`, 'utf8'))},`);
  return (
    '// GENERATED from templates/*.template by test/cloudinit/embed.ts: do not edit; edit the templates and run\n' +
    '// UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts\n' +
    `export const EMBEDDED_TEMPLATES = {\n${entries.join('\n')}\n} as const;\n`
  );
}
