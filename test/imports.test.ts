/**
 * The import graph of src/ has no circle (issue 16: the agent, libvirt-rpc and remote code imported each
 * other). Type-only imports are left out: they are erased and load nothing. Relative imports only; a
 * package cannot import us back.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SRC, sourceFiles } from './helpers/source.js';

/** Each module's value imports (static and dynamic) of other modules in src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const p of sourceFiles()) {
    const text = readFileSync(p, 'utf8');
    const specs = [
      ...[...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)].filter((m) => !m[1]).map((m) => m[2]!),
      ...[...text.matchAll(/\bimport\('(\.[^']+)'\)/g)].map((m) => m[1]!),
    ];
    graph.set(p, specs.map((s) => resolve(dirname(p), s.replace(/\.js$/, '.ts'))));
  }
  return graph;
}

function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

describe('src/ import graph', () => {
  it('sees the modules and their imports (the walk itself works)', () => {
    const g = importGraph();
    expect(g.size).toBeGreaterThan(100);
    expect(g.get(join(SRC, 'agent/direct.ts'))).toContain(join(SRC, 'agent/lock.ts'));
  });

  it('finds a circle when there is one', () => {
    const g = new Map([['/a', ['/b']], ['/b', ['/c']], ['/c', ['/a']]]);
    expect(circles(g)).toHaveLength(1);
  });

  it('has no circle of value imports, static or dynamic', () => {
    expect(circles(importGraph())).toEqual([]);
  });
});
