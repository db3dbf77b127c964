/**
 * The `:` command line: `:chain KUBE-SERVICES`, `:trace tcp 10.244.1.10:40000 -> 10.96.0.100:80 iif cni0`,
 * `:q`, and a few more (see COMMANDS). Parsing is pure; the controller carries commands out.
 */
import ipaddr from 'ipaddr.js';
import type { TableName } from '../core/model.js';
import { TABLE_NAMES } from '../core/model.js';
import type { PacketForm } from './packet-form.js';

/** A parsed `:` command. */
export type Command =
  | { kind: 'quit' }
  | { kind: 'chain'; table?: TableName; chain: string }
  | { kind: 'table'; table: TableName }
  | { kind: 'trace'; form: PacketForm }
  | { kind: 'reset' }
  | { kind: 'scenario' }
  | { kind: 'preset'; which: string }
  | { kind: 'overlay'; overlay: 'help' | 'diagnostics' | 'changes' | 'callers' | 'branches' | 'presets' | 'hot' }
  | { kind: 'sort'; byRate: boolean }
  | { kind: 'verbose' }
  | { kind: 'diff' }
  | { kind: 'family'; family: 'ipv4' | 'ipv6' }
  | { kind: 'entries' };

/** Commands with their syntax, for the help overlay and error messages. */
export const COMMANDS: readonly { syntax: string; help: string }[] = [
  { syntax: ':chain [TABLE] NAME', help: 'show a chain (e.g. :chain KUBE-SERVICES, :chain filter INPUT)' },
  { syntax: ':table NAME', help: 'jump to a table in the Chains tree' },
  { syntax: ':trace PROTO SRC[:PORT] -> DST[:PORT] [iif IF|local] [mark M] [ct STATE]', help: 'fill the packet form and trace it' },
  { syntax: ':preset N|NAME', help: 'trace a scenario packet' },
  { syntax: ':scenario', help: 'trace every scenario packet at once (simulated counters)' },
  { syntax: ':reset', help: 'reset the simulated counters' },
  { syntax: ':sort rate|position', help: 'order the Rules pane by live packet rate or by position' },
  { syntax: ':diag  :changes  :callers  :branches  :presets  :hot  :help', help: 'open a list' },
  { syntax: ':verbose', help: 'show every evaluated rule in the trace (no folding)' },
  { syntax: ':diff', help: 'compare with the ruleset before the last reload' },
  { syntax: ':family ipv4|ipv6', help: 'show the other family of a live host or bundle' },
  { syntax: ':open', help: 'list the dumps of a directory source and open one' },
  { syntax: ':q', help: 'quit' },
];

/** `10.0.0.1:80`, `[2001:db8::1]:80`, `2001:db8::1`, `10.0.0.1` → address and optional port. */
export function splitHostPort(text: string): { addr: string; port?: string } | null {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { addr: bracket[1], port: bracket[2] };
  if (ipaddr.IPv6.isValid(text)) return { addr: text };
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (m) return { addr: m[1], port: m[2] };
  return null;
}

/** Parse a `:trace` argument list into a packet form, starting from `base`. */
export function parseTraceArgs(words: string[], base: PacketForm): PacketForm | string {
  const arrow = words.indexOf('->');
  if (words.length < 4 || arrow !== 2) return 'usage: :trace PROTO SRC[:PORT] -> DST[:PORT] [iif IF|local] [mark M] [ct STATE]';
  const form: PacketForm = { ...base, sport: '', dport: '' };
  form.proto = words[0].toLowerCase();
  const src = splitHostPort(words[1]);
  const dst = splitHostPort(words[3]);
  if (!src || !ipaddr.isValid(src.addr)) return `:trace: "${words[1]}" is not ADDRESS[:PORT]`;
  if (!dst || !ipaddr.isValid(dst.addr)) return `:trace: "${words[3]}" is not ADDRESS[:PORT]`;
  form.src = src.addr;
  form.dst = dst.addr;
  form.sport = src.port ?? '';
  form.dport = dst.port ?? '';
  for (let i = 4; i < words.length; i++) {
    const w = words[i].toLowerCase();
    const arg = words[i + 1];
    if (w === 'local') {
      form.iif = 'local';
      continue;
    }
    if (arg === undefined) return `:trace: "${words[i]}" needs a value`;
    if (w === 'iif' || w === 'in' || w === '-i') form.iif = arg;
    else if (w === 'mark') form.mark = arg;
    else if (w === 'ct' || w === 'ctstate') form.ct = arg.toUpperCase();
    else return `:trace: unknown word "${words[i]}" (iif, local, mark, ct)`;
    i++;
  }
  return form;
}

/** Parse a command line (without the leading `:`) into a command or an error message. */
export function parseCommand(line: string, base: PacketForm): Command | string {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return 'empty command';
  const [verb, ...args] = words;
  switch (verb) {
    case 'q':
    case 'q!':
    case 'quit':
    case 'wq':
      return { kind: 'quit' };
    case 'chain':
    case 'c':
      if (args.length === 1) return { kind: 'chain', chain: args[0] };
      if (args.length === 2 && (TABLE_NAMES as readonly string[]).includes(args[0])) return { kind: 'chain', table: args[0] as TableName, chain: args[1] };
      return 'usage: :chain [TABLE] NAME';
    case 'table':
      if (args.length === 1 && (TABLE_NAMES as readonly string[]).includes(args[0])) return { kind: 'table', table: args[0] as TableName };
      return `usage: :table ${TABLE_NAMES.join('|')}`;
    case 'trace':
    case 't': {
      const f = parseTraceArgs(args, base);
      return typeof f === 'string' ? f : { kind: 'trace', form: f };
    }
    case 'reset':
      return { kind: 'reset' };
    case 'scenario':
      return { kind: 'scenario' };
    case 'preset':
      if (args.length >= 1) return { kind: 'preset', which: args.join(' ') };
      return { kind: 'overlay', overlay: 'presets' };
    case 'help':
      return { kind: 'overlay', overlay: 'help' };
    case 'diag':
    case 'diagnostics':
      return { kind: 'overlay', overlay: 'diagnostics' };
    case 'changes':
      return { kind: 'overlay', overlay: 'changes' };
    case 'callers':
      return { kind: 'overlay', overlay: 'callers' };
    case 'branches':
      return { kind: 'overlay', overlay: 'branches' };
    case 'presets':
      return { kind: 'overlay', overlay: 'presets' };
    case 'hot':
      return { kind: 'overlay', overlay: 'hot' };
    case 'sort':
      if (args[0] === 'rate') return { kind: 'sort', byRate: true };
      if (args[0] === 'position' || args[0] === 'pos') return { kind: 'sort', byRate: false };
      return 'usage: :sort rate|position';
    case 'verbose':
      return { kind: 'verbose' };
    case 'diff':
      return { kind: 'diff' };
    case 'family':
      if (args[0] === 'ipv4' || args[0] === 'ipv6') return { kind: 'family', family: args[0] };
      return 'usage: :family ipv4|ipv6';
    case 'open':
    case 'entries':
      return { kind: 'entries' };
    default:
      return `unknown command ":${verb}" (try :help)`;
  }
}
