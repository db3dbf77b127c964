/**
 * -j TPROXY --on-port P [--on-ip ADDR] [--tproxy-mark V[/M]] (mangle PREROUTING): assigns the
 * packet to a local transparent socket without rewriting it, and sets the mark used by a policy
 * route to deliver it locally. Like xt_TPROXY.c tproxy_tg4: the packet goes to a listening
 * socket on --on-ip (else the packet's destination) : --on-port that has IP_TRANSPARENT;
 * NF_ACCEPT when one is found, NF_DROP otherwise (kernel-confirmed by the k-misc-v4 scenario).
 * Listening sockets come from the context's `sockets` (none by default).
 */
import type { ExtensionBase } from '../types.js';
import { err, hex, ok, opt, parsePort, parseValueMask } from '../util.js';
import { parseIp, type Ip } from '../../netfilter/addr.js';
import { xmark } from './MARK.js';

/** Parsed TPROXY target. */
export interface TproxyTarget {
  port: number;
  ip?: Ip;
  mark: number;
  mask: number;
}

/** The TPROXY target extension. */
export const tproxyTarget: ExtensionBase<TproxyTarget> = {
  name: 'TPROXY',
  optionNames: ['on-port', 'on-ip', 'tproxy-mark'],
  tables: ['mangle'],
  hooks: ['PREROUTING'],
  parse(options) {
    const port = parsePort(opt(options, 'on-port')?.args[0] ?? '');
    if (port === null) return err('TPROXY: --on-port is required', 'on-port');
    const v: TproxyTarget = { port, mark: 0, mask: 0 };
    const ipText = opt(options, 'on-ip')?.args[0];
    if (ipText) {
      const ip = parseIp(ipText);
      if (!ip) return err(`TPROXY: invalid --on-ip "${ipText}"`, 'on-ip');
      v.ip = ip;
    }
    const m = opt(options, 'tproxy-mark')?.args[0];
    if (m) {
      const vm = parseValueMask(m);
      if (!vm) return err(`TPROXY: invalid --tproxy-mark "${m}"`, 'tproxy-mark');
      v.mark = vm.value;
      v.mask = vm.mask;
    }
    return ok(v);
  },
  describe: (v) => `TPROXY redirect ${v.ip?.text ?? '0.0.0.0'}:${v.port} mark ${hex(v.mark)}/${hex(v.mask)}`,
  apply(v, ctx) {
    const p = ctx.packet;
    const ip = v.ip && !v.ip.w.every((x) => x === 0) ? v.ip : p.dst;
    const where = `${ip.text}:${v.port}`;
    const sk = ctx.host.findSocket(p.protoNum, ip, v.port);
    if (!sk || !sk.transparent) {
      const why = sk ? `the socket on ${where} is not transparent (IP_TRANSPARENT)` : `no socket listens on ${where}`;
      return { verdict: 'drop', changes: [`TPROXY: ${why}; the kernel drops the packet`] };
    }
    const before = p.mark;
    p.mark = xmark(before, v);
    p.tproxy = true;
    const changes = [`assigned to the transparent socket ${where}`];
    if (before !== p.mark) changes.push(`mark ${hex(before)} → ${hex(p.mark)}`);
    return { verdict: 'accept', changes };
  },
};
