/**
 * -m socket [--transparent] [--nowildcard] [--restore-skmark]: matches when the packet belongs to
 * a local socket (xt_socket.c socket_mt4_v1_v2_v3: an established socket of the flow, else a
 * listener for its destination; --transparent requires IP_TRANSPARENT). iptscope models
 * listeners only: the context's `sockets` (none by default) on the destination address and port.
 */
import type { ExtensionBase } from '../types.js';
import { no, ok, yes } from '../util.js';
import { PORT_PROTOCOLS } from '../../netfilter/proto.js';

/** Parsed socket match. */
export interface SocketMatch {
  transparent: boolean;
  nowildcard: boolean;
  restoreSkmark: boolean;
}

/** The socket match extension. */
export const socketMatch: ExtensionBase<SocketMatch> = {
  name: 'socket',
  optionNames: ['transparent', 'nowildcard', 'restore-skmark'],
  flagOptions: ['transparent', 'nowildcard', 'restore-skmark'],
  hooks: ['PREROUTING', 'INPUT'],
  parse: (o) =>
    ok({
      transparent: o.some((x) => x.name === 'transparent'),
      nowildcard: o.some((x) => x.name === 'nowildcard'),
      restoreSkmark: o.some((x) => x.name === 'restore-skmark'),
    }),
  describe: (v) => `socket${v.transparent ? ' --transparent' : ''}${v.nowildcard ? ' --nowildcard' : ''}${v.restoreSkmark ? ' --restore-skmark' : ''}`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const spec = `-m socket${v.transparent ? ' --transparent' : ''}`;
    if (!PORT_PROTOCOLS.has(p.protoNum) || p.dport === undefined) return no(`${spec}: ${p.proto} has no socket lookup here`);
    const sk = ctx.host.findSocket(p.protoNum, p.dst, p.dport);
    if (!sk) return no(`${spec}: no local socket for ${p.dst.text}:${p.dport} (context sockets)`);
    if (v.transparent && !sk.transparent) return no(`${spec}: the socket for ${p.dst.text}:${p.dport} is not transparent`);
    return yes(`${spec}: local socket for ${p.dst.text}:${p.dport}`);
  },
};
