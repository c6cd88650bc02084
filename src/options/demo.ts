/** The `demo` verb's options (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { opt } from './table.js';

export const DEMO_OPTIONS = {
  dir: opt({ flag: '--dir <dir>', default: 'qemu-kubesolo-demo', help: 'where the artifacts and the kubeconfig go', schema: () => z.string().min(1, 'must not be empty') }),
};
