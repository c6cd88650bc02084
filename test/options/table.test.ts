/**
 * Every verb × every option: the option tables (src/options/) agree with what commander registers,
 * with --help, with the error names and with the README's tables; and the precedence rule (flag >
 * variable > default, an empty variable unset) holds for every row.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { resolveTarget } from '../../src/cli/agent.js';
import { resolveDoctorOptions } from '../../src/cli/doctor.js';
import { resolveDomainSpec } from '../../src/cli/domain-xml.js';
import { resolveKubeconfigOptions } from '../../src/kubeconfig/options.js';
import { isQksError } from '../../src/errors.js';
import { markdownTable, parseMarkdownTable, readmeBlock, renderReadme } from '../../src/options/readme.js';
import { defaultTextOf, flagNames, gather, longFlag, longFlags, nameOf, parseGathered, valueKind, type OptionDef } from '../../src/options/table.js';
import { objectSchema } from '../../src/options/zod.js';
import { README_TABLES, VERB_OPTIONS } from '../../src/options/verbs.js';
import { runCli } from '../helpers/cli.js';
import { attributeOf } from '../../src/cli/flags.js';

const README_PATH = new URL('../../README.md', import.meta.url);
// QKS_UPDATE_README=1 rewrites the README's option tables from src/options/ (after adding a row), then checks them
if (process.env.QKS_UPDATE_README === '1') writeFileSync(README_PATH, renderReadme(readFileSync(README_PATH, 'utf8'), README_TABLES));
const README = readFileSync(README_PATH, 'utf8');

async function commandFor(words: string[]): Promise<Command> {
  const program = await buildProgram(new AbortController().signal, ['node', 'qemu-kubesolo', ...words]);
  let cmd: Command = program;
  for (const w of words) cmd = cmd.commands.find((c) => c.name() === w)!;
  expect(cmd, words.join(' ')).toBeDefined();
  return cmd;
}

const rowsOf = (tables: readonly Record<string, OptionDef>[]) => tables.flatMap((t) => Object.entries(t));
const squash = (s: string) => s.replace(/\s+/g, ' ');

describe('option tables', () => {
  for (const { command, tables } of VERB_OPTIONS) {
    const verb = command.join(' ');
    it(`${verb}: every row is registered, and --help shows its variable and default`, async () => {
      const cmd = await commandFor(command);
      const help = squash(cmd.helpInformation());
      for (const [key, d] of rowsOf(tables)) {
        const registered = cmd.options.find((o) => o.long === longFlags(d).at(-1) || o.short === longFlags(d)[0]);
        expect(registered, `${verb} ${key}`).toBeDefined();
        expect(help, `${verb} ${key}`).toContain(longFlag(d));
        for (const v of d.env ?? []) expect(help, `${verb} ${key}`).toContain(v);
        const def = defaultTextOf(d);
        if (def !== undefined) expect(help, `${verb} ${key}`).toContain(`default ${squash(def)}`);
      }
    });

    it(`${verb}: flag > variable > default for every row; an empty variable is unset`, () => {
      for (const table of tables) {
        for (const [key, d] of Object.entries(table)) {
          const flag = d.list ? ['from-flag'] : 'from-flag';
          for (const v of d.env ?? []) {
            const env = { [v]: 'from-env' };
            expect(gather(table, { [key]: flag }, env)[key], `${verb} ${key}`).toEqual(flag);
            const fromEnv = gather(table, {}, env)[key];
            expect(fromEnv, `${verb} ${key} ${v}`).toEqual(d.fromEnv ? d.fromEnv('from-env') : 'from-env');
            expect(gather(table, {}, { [v]: '' })[key], `${verb} ${key} empty ${v}`).toEqual(d.default);
          }
          expect(gather(table, {}, {})[key], `${verb} ${key}`).toEqual(d.default);
        }
      }
    });

    it(`${verb}: a bad value is named "--flag (VARIABLES)"`, () => {
      const BAD = ['', '-x\n', 'not valid ✗', '99999999999999999', '../x'];
      let named = 0;
      for (const table of tables) {
        for (const [key, d] of Object.entries(table)) {
          for (const bad of BAD) {
            try {
              parseGathered(table, objectSchema(table), gather(table, { [key]: d.list ? [bad] : bad }, {}), 'hint');
            } catch (e) {
              if (!isQksError(e, 'CONFIG_INVALID')) throw e;
              const mine = (e.details as { problems: string[] }).problems.filter((p) => p.startsWith(longFlag(d)));
              for (const p of mine) expect(p).toMatch(new RegExp(`^${nameOf(d).replace(/[()[\]]/g, '\\$&')}(\\[\\d+\\])?: `));
              if (mine.length) named++;
            }
          }
        }
      }
      expect(named).toBeGreaterThan(0);
    });
  }

  for (const { id, tables } of README_TABLES) {
    it(`README's ${id} table is the table's (QKS_UPDATE_README=1 regenerates it)`, () => {
      const block = readmeBlock(README, id);
      expect(block, `README has no <!-- options:${id} --> block`).toBeDefined();
      expect(block).toBe(markdownTable(tables));
      const readmeRows = parseMarkdownTable(block!);
      const rows = rowsOf(tables).filter(([, d], i, all) => all.findIndex(([, o]) => o.flag === d.flag) === i);
      expect(readmeRows).toHaveLength(rows.length);
      for (const [i, [key, d]] of rows.entries()) {
        const r = readmeRows[i]!;
        expect(r.flag, key).toContain(longFlag(d));
        expect(r.variables, key).toEqual(d.env ?? []);
        expect(r.default, key).toBe(defaultTextOf(d) ?? '');
        // the name errors give is the README's flag and variables
        expect(nameOf(d), key).toBe(r.variables.length ? `${longFlag(d)} (${r.variables.join(', ')})` : longFlag(d));
      }
    });
  }
});

describe('flags without commander (src/cli/flags.ts)', () => {
  it("names every row's attribute as commander does", () => {
    const flags = VERB_OPTIONS.flatMap((v) => v.tables.flatMap((t) => Object.values(t).map((d) => d.flag)));
    expect(flags.length).toBeGreaterThan(40);
    for (const flag of [...flags, '-o, --output <file>', '--no-verify-server', '--vm-name, --name <name>', '-j, --jobs <n>']) {
      expect(attributeOf(flag), flag).toBe(new Option(flag).attributeName());
    }
  });
});

describe('flag texts read without regular expressions (src/options/table.ts flagWords)', () => {
  // the expressions these replaced (src/cli/fast.ts, src/options/table.ts before round 9 of bench/startup.md)
  const old = {
    names: (f: string) => f.match(/(?<![\w-])--?[a-z0-9][a-z0-9-]*/gi) ?? [],
    longs: (f: string) => f.match(/--[a-z0-9-]+/gi) ?? [],
    kind: (f: string) => (/ <[^>]+>$/.test(f) ? 'required' : / \[[^\]]+\]$/.test(f) ? 'optional' : undefined),
  };
  const same = (flag: string) => {
    expect(flagNames(flag), flag).toEqual(old.names(flag));
    expect(longFlags({ flag } as OptionDef), flag).toEqual(old.longs(flag));
    expect(valueKind(flag), flag).toBe(old.kind(flag));
    expect(attributeOf(flag), flag).toBe(new Option(flag).attributeName());
  };

  it('every row of every table, as the expressions read them', () => {
    for (const flag of VERB_OPTIONS.flatMap((v) => v.tables.flatMap((t) => Object.values(t).map((d) => d.flag)))) same(flag);
  });

  it('any flag text of the tables\' form: [-x, ]--long[, --alias] [<value> | [value]]', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,4}){0,2}$/);
    const flag = fc
      .record({
        short: fc.option(fc.stringMatching(/^[a-zA-Z0-9]$/), { nil: undefined }),
        longs: fc.array(name, { minLength: 1, maxLength: 2 }),
        no: fc.boolean(),
        value: fc.option(fc.tuple(fc.constantFrom('<>', '[]'), fc.stringMatching(/^[a-zA-Z0-9:=._]{1,8}$/)), { nil: undefined }),
      })
      // commander takes a short flag and one long, or a long and an alias
      .map(({ short, longs: all, no, value }) => ({ short, longs: short ? all.slice(0, 1) : all, no, value }))
      .map(({ short, longs, no, value }) =>
        [short && `-${short},`, ...longs.map((l, i) => `--${no && i === 0 ? 'no-' : ''}${l}${i < longs.length - 1 ? ',' : ''}`), value && `${value[0][0]}${value[1]}${value[0][1]}`].filter(Boolean).join(' '),
      );
    fc.assert(fc.property(flag, same), { numRuns: 1000 });
  });
});

describe('the same rule in every verb (rules that used to drift between verbs)', () => {
  it('an empty LIBVIRT_URI is unset: kubeconfig, agent and doctor', () => {
    expect(resolveKubeconfigOptions({}, { LIBVIRT_URI: '' }).libvirtUri).toBe('qemu:///system');
    expect(resolveTarget({}, { LIBVIRT_URI: '' }).libvirtUri).toBeUndefined();
    expect(resolveDoctorOptions({}, { LIBVIRT_URI: '' }).libvirtUri).toBeUndefined();
    expect(resolveTarget({}, { LIBVIRT_URI: 'qemu:///session' }).libvirtUri).toBe('qemu:///session');
  });

  it('the VM: --vm-name, else VM_NAME, else VM_HOSTNAME, else kubesolo, in every verb', () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{}, 'kubesolo'],
      [{ VM_HOSTNAME: 'h' }, 'h'],
      [{ VM_NAME: 'n', VM_HOSTNAME: 'h' }, 'n'],
      [{ VM_NAME: '', VM_HOSTNAME: 'h' }, 'h'],
      [{ VM_NAME: '', VM_HOSTNAME: '' }, 'kubesolo'],
    ];
    for (const [env, want] of cases) {
      expect(resolveKubeconfigOptions({}, env).vmNames, JSON.stringify(env)).toEqual([want]);
      expect(resolveTarget({}, env).vmName).toBe(want);
      expect(resolveDoctorOptions({}, env).vmName).toBe(want);
      expect(resolveDomainSpec({ disk: '/d.qcow2' }, env).name).toBe(want);
    }
    // with --socket the socket is the agent; the name only when given
    expect(resolveTarget({ socket: '/s' }, { VM_NAME: 'n' }).vmName).toBeUndefined();
    expect(resolveTarget({ socket: '/s', vmName: 'x' }, {}).vmName).toBe('x');
    expect(resolveDoctorOptions({ socket: '/s' }, { VM_NAME: 'n' }).vmName).toBeUndefined();
  });

  it('domain-xml and virt-install-args take --vm-name, and --name as an alias', async () => {
    for (const flag of ['--vm-name', '--name']) {
      const xml = await runCli(['--json', 'domain-xml', flag, 'vm-a', '--disk', '/d.qcow2']);
      expect(xml.json[0], xml.stderr).toMatchObject({ ok: true, name: 'vm-a' });
      const vi = await runCli(['--json', 'virt-install-args', flag, 'vm-b']);
      expect((vi.json[0] as { args: string[] }).args.slice(0, 2), vi.stderr).toEqual(['--name', 'vm-b']);
    }
  });

  it('a bad SOURCE_DATE_EPOCH is CONFIG_INVALID (exit 2) in iso and in artifacts, naming the variable', async () => {
    const env = { SOURCE_DATE_EPOCH: 'soon' };
    const iso = await runCli(['--json', 'iso', '-o', '-', 'user-data=/dev/null'], { env });
    const art = await runCli(['--json', 'artifacts', '--output-dir', '/nonexistent/never-written'], { env });
    for (const r of [iso, art]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', message: expect.stringContaining('SOURCE_DATE_EPOCH') } });
    }
  });
});
