import type { Command } from 'commander';
import type { RunAction } from './main.js';

// Placeholder: the verb lands with its issue.
export function register(_program: Command, _run: RunAction): void {}
