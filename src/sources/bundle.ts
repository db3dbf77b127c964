/**
 * Capture bundles: one text file holding a host's IPv4 and IPv6 dumps, the host context, the host
 * name, the capture time and the tool versions, so a node's state can be copied off and stepped
 * elsewhere with exactly the same context. Readable and editable by hand:
 *
 *   # iptscope capture bundle …            comment lines (#) before the header
 *   iptscope-bundle: 1                      format version (this file reads ≤ BUNDLE_VERSION)
 *   hostname: node-7                        header: `key: value`, one per line
 *   captured-at: 2026-11-27T06:10:00.000Z
 *   …
 *   === ipv4 ===                            sections: the iptables-save -c text, verbatim
 *   === ipv6 ===                            the ip6tables-save -c text
 *   === context ===                         the HostContext JSON (the same as `--context FILE`)
 *   === policy-rules ===                    `ip rule` lines, for the record
 *   === end sha256:HEX ===                  end marker; the digest covers every line above it
 *
 * A missing end marker means the file was cut short; a digest that does not match means it was
 * damaged or edited (`=== end ===` without a digest accepts hand edits). Dump sections are parsed
 * with line numbers of the bundle itself, so diagnostics point into the bundle.
 */
import { createHash } from 'node:crypto';
import type { Family, ParseResult } from '../core/model.js';
import type { HostContext } from '../core/netfilter/types.js';
import { parseRuleset } from '../core/parse/index.js';
import { CliError } from '../cli/errors.js';
import type { CaptureMeta, CapturedSource, Variant } from './live.js';
import type { LoadedSource } from './types.js';

/** The format version this iptscope writes and the newest it reads. */
export const BUNDLE_VERSION = 1;

const MAGIC = 'iptscope-bundle:';
const BANNER = '# iptscope capture bundle:';
const SECTION = /^=== (.+?) ===$/;
const END = /^end(?: sha256:([0-9a-f]{64}))?$/;
const FAMILIES: Family[] = ['ipv4', 'ipv6'];

/** True when the text is a capture bundle (its header line appears among the first lines). */
export function isBundle(text: string): boolean {
  // Our own first comment line counts too, so a bundle cut short inside its comments is still
  // reported as a damaged bundle rather than read as an empty dump.
  if (text.startsWith(BANNER)) return true;
  const head = text.slice(0, 4096).split('\n', 40);
  for (const line of head) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    return l.startsWith(MAGIC);
  }
  return false;
}

function damaged(file: string, line: number, what: string): CliError {
  return new CliError(`${file}:${line}: damaged capture bundle: ${what}`, 2);
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Read a bundle. Throws CliError (exit 2) for a newer format version or a damaged file (cut short,
 * digest mismatch, unreadable header or context). Parse problems inside the dumps are diagnostics,
 * as for any dump.
 */
export function parseBundle(text: string, file: string): CapturedSource {
  // A bundle carried through a Windows tool may come back with CRLF endings: undo that (the digest
  // was taken over LF lines) and say so.
  const crlf = text.includes('\r\n');
  if (crlf) text = text.replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  // A final newline leaves one empty element; it is not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = new Map<string, string[]>();
  let i = 0;
  let version: number | undefined;
  for (; i < lines.length; i++) {
    const l = lines[i];
    if (SECTION.test(l)) break;
    if (l.trim() === '' || l.startsWith('#')) continue;
    const m = /^([a-z0-9][a-z0-9.-]*):\s?(.*)$/.exec(l);
    if (!m) throw damaged(file, i + 1, `header line is not "key: value" (${JSON.stringify(l.slice(0, 40))})`);
    const [, key, value] = m;
    if (key === 'iptscope-bundle') {
      if (!/^\d+$/.test(value.trim())) throw damaged(file, i + 1, `format version ${JSON.stringify(value)} is not a number`);
      version = Number(value.trim());
      if (version > BUNDLE_VERSION) {
        throw new CliError(
          `${file}: capture bundle format version ${version} is newer than this iptscope reads (up to ${BUNDLE_VERSION}) — upgrade iptscope`,
          2,
        );
      }
      if (version < 1) throw damaged(file, i + 1, `format version ${version} does not exist`);
    } else if (version === undefined) {
      throw damaged(file, i + 1, `"${key}:" before the "${MAGIC} N" line`);
    }
    header.set(key, [...(header.get(key) ?? []), value]);
  }
  if (version === undefined) throw damaged(file, 1, `no "${MAGIC} N" header line`);

  // Sections up to the end marker.
  const sections = new Map<string, { start: number; lines: string[] }>();
  let current: { start: number; lines: string[] } | undefined;
  let endLine = -1;
  for (; i < lines.length; i++) {
    const m = SECTION.exec(lines[i]);
    if (!m) {
      current?.lines.push(lines[i]);
      continue;
    }
    const name = m[1];
    const end = END.exec(name);
    if (end) {
      endLine = i;
      if (end[1]) {
        const covered = lines.slice(0, i).join('\n') + '\n';
        if (digest(covered) !== end[1]) {
          throw damaged(
            file,
            i + 1,
            'sha256 digest does not match the content (damaged in transit, or edited — to accept hand edits, change this line to "=== end ===")',
          );
        }
      }
      break;
    }
    if (sections.has(name)) throw damaged(file, i + 1, `section "${name}" appears twice`);
    current = { start: i + 2, lines: [] };
    sections.set(name, current);
  }
  if (endLine < 0) throw damaged(file, lines.length, 'it ends before the "=== end ===" line (cut short?)');
  for (let j = endLine + 1; j < lines.length; j++) {
    if (lines[j].trim() !== '') throw damaged(file, j + 1, 'text after the "=== end ===" line');
  }

  const rulesets: Partial<Record<Family, ParseResult>> = {};
  const texts: Partial<Record<Family, string>> = {};
  for (const f of FAMILIES) {
    const s = sections.get(f);
    if (!s) continue;
    // Pad with empty lines so the dump's line numbers are the bundle's (diagnostics point into it).
    const body = s.lines.join('\n') + (s.lines.length > 0 ? '\n' : '');
    const padded = '\n'.repeat(s.start - 1) + body;
    texts[f] = padded;
    rulesets[f] = parseRuleset(padded, { file, family: f });
  }
  if (Object.keys(rulesets).length === 0) throw damaged(file, endLine + 1, 'no "=== ipv4 ===" or "=== ipv6 ===" section');

  let context: HostContext | undefined;
  const ctx = sections.get('context');
  if (ctx) {
    const body = ctx.lines.join('\n').trim();
    if (body !== '') {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (err) {
        throw damaged(file, ctx.start, `context is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      const problem = contextProblem(value);
      if (problem) throw damaged(file, ctx.start, `context ${problem}`);
      context = value as HostContext;
    }
  }

  const one = (k: string): string | undefined => header.get(k)?.[header.get(k)!.length - 1];
  const versions: Record<string, string> = {};
  const commands: Partial<Record<Family, string>> = {};
  for (const [k, v] of header) {
    if (k.startsWith('version.')) versions[k.slice('version.'.length)] = v[v.length - 1];
    if (k === 'command.ipv4' || k === 'command.ipv6') commands[k.slice('command.'.length) as Family] = v[v.length - 1];
  }
  const variantText = one('variant');
  const variant: Variant = variantText === 'nft' || variantText === 'legacy' ? variantText : 'unknown';
  const hostname = one('hostname') ?? context?.hostname ?? '';
  const capturedAt = one('captured-at');
  const policy = sections.get('policy-rules');
  const meta: CaptureMeta = {
    hostname,
    capturedAt: capturedAt ?? '',
    variant,
    commands,
    versions,
    policyRules: policy ? policy.lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) : [],
  };
  const notes = [...(header.get('note') ?? [])];
  if (crlf) notes.push(`${file}: CRLF line endings converted to LF`);
  for (const name of sections.keys()) {
    if (!['ipv4', 'ipv6', 'context', 'policy-rules'].includes(name)) notes.push(`${file}: unknown section "${name}" ignored`);
  }
  const when = capturedAt ? `, captured ${capturedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC')}` : '';
  const source: CapturedSource = {
    kind: 'bundle',
    label: `${file} (host ${hostname || 'unknown'}${when})`,
    path: file,
    rulesets,
    texts,
    notes,
    meta,
  };
  if (context) source.context = context;
  if (capturedAt) source.capturedAt = capturedAt;
  return source;
}

/** Why a value is not a HostContext (shape only), or undefined when it is one. */
function contextProblem(v: unknown): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'is not a JSON object';
  const c = v as Record<string, unknown>;
  if (c.interfaces !== undefined && !Array.isArray(c.interfaces)) return '"interfaces" is not an array';
  if (c.routes !== undefined && !Array.isArray(c.routes)) return '"routes" is not an array';
  if (c.sysctl !== undefined && (typeof c.sysctl !== 'object' || c.sysctl === null || Array.isArray(c.sysctl))) {
    return '"sysctl" is not an object';
  }
  for (const [k, arr] of [['interfaces', c.interfaces], ['routes', c.routes]] as const) {
    for (const [n, e] of ((arr as unknown[] | undefined) ?? []).entries()) {
      if (!e || typeof e !== 'object') return `"${k}"[${n}] is not an object`;
    }
  }
  return undefined;
}

/** One header value on one line (newlines would break the format). */
function oneLine(v: string): string {
  return v.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * Write a source (normally from loadLive) as a bundle. Deterministic for a given source: header
 * keys in a fixed order, sections in a fixed order, JSON with 2-space indentation.
 */
export function writeBundle(source: LoadedSource & { meta?: CaptureMeta }): string {
  const meta = source.meta;
  const out: string[] = [
    `${BANNER} a host's netfilter rules and the context the kernel consults.`,
    '# Open it with any iptscope command as SOURCE: iptscope show FILE, iptscope trace FILE …, iptscope FILE.',
    '# Sections start with "=== NAME ===" lines; the last line\'s digest covers everything above it',
    '# (replace that line with "=== end ===" after editing by hand).',
    `${MAGIC} ${BUNDLE_VERSION}`,
  ];
  const hostname = meta?.hostname || source.context?.hostname || '';
  out.push(`hostname: ${oneLine(hostname)}`);
  out.push(`captured-at: ${oneLine(meta?.capturedAt || source.capturedAt || new Date().toISOString())}`);
  if (meta) out.push(`variant: ${meta.variant}`);
  for (const f of FAMILIES) {
    const cmd = meta?.commands[f];
    if (cmd && source.texts[f] !== undefined) out.push(`command.${f}: ${oneLine(cmd)}`);
  }
  const versions = { ...(meta?.versions ?? {}) };
  for (const k of Object.keys(versions).sort()) out.push(`version.${k}: ${oneLine(versions[k])}`);
  for (const n of source.notes) out.push(`note: ${oneLine(n)}`);

  for (const f of FAMILIES) {
    const t = source.texts[f];
    if (t === undefined) continue;
    // Bundles read back carry padding lines; a dump itself never starts with empty lines.
    const body = t.replace(/^\n+/, '');
    for (const [n, l] of body.split('\n').entries()) {
      if (SECTION.test(l)) throw new CliError(`cannot write a bundle: ${f} dump line ${n + 1} looks like a section marker`, 2);
    }
    out.push(`=== ${f} ===`);
    if (body !== '') out.push(...body.replace(/\n$/, '').split('\n'));
  }
  if (source.context) {
    out.push('=== context ===');
    out.push(JSON.stringify(source.context, null, 2));
  }
  if (meta && meta.policyRules.length > 0) {
    out.push('=== policy-rules ===');
    out.push(...meta.policyRules.map(oneLine));
  }
  const covered = out.join('\n') + '\n';
  return `${covered}=== end sha256:${digest(covered)} ===\n`;
}
