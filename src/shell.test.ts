import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuote } from './shell.js';

describe('shellQuote', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('--disk')).toBe('--disk');
    expect(shellQuote('path=/a/b.iso,device=cdrom')).toBe('path=/a/b.iso,device=cdrom');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's $(x)")).toBe(`'it'\\''s $(x)'`);
  });

  it('gives back any string through a real sh, unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')), { minLength: 1, maxLength: 4 }), (words) => {
        const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
        expect(out.split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 60 },
    );
  });
});
