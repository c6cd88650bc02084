/**
 * A parsed template as rendering reads it: the yaml library's nodes reduced to what renderNode looks
 * at, each with its line for errors. The built-in templates' trees are made when they are embedded
 * (./embedded-templates.ts, test/cloudinit/embed.ts); the type lives here, below both, so neither imports the other's module, so a run with them parses no YAML.
 */
export type TemplateNode = TemplateScalar | TemplateMap | TemplateSeq | TemplateOther;
export interface TemplateNodeBase {
  tag?: string;
  /** 1-based, for errors; absent when the library gave no position. */
  line?: number;
}
export interface TemplateScalar extends TemplateNodeBase {
  kind: 'scalar';
  value: unknown;
  /** A key's text as written, when its value is not text (`1:`). */
  source?: string;
  /** A plain scalar tagged !if/!unless: its value read as if untagged (`!if/x 3` is 3). */
  untagged?: unknown;
}
export interface TemplateMap extends TemplateNodeBase {
  kind: 'map';
  items: { key: TemplateNode | null; value: TemplateNode | null }[];
}
export interface TemplateSeq extends TemplateNodeBase {
  kind: 'seq';
  items: (TemplateNode | null)[];
}
/** An alias, a pair inside a list (`[a: b]`) or anything else rendering refuses when it reaches it. */
export interface TemplateOther extends TemplateNodeBase {
  kind: 'other';
  /** A pair: no tag of its own to test. */
  pair?: true;
}
