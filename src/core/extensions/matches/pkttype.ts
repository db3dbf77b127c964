/**
 * -m pkttype: [!] --pkt-type unicast|broadcast|multicast. Like xt_pkttype.c: the link-layer packet
 * type. For packets arriving on an interface the engine derives it from the destination address
 * (limited broadcast or a subnet broadcast of the host → broadcast, multicast range → multicast,
 * else unicast to this host). For locally generated packets (PACKET_LOOPBACK) xt_pkttype reports
 * multicast for multicast destinations and broadcast otherwise... only for loopback-typed skbs,
 * which the engine cannot tell apart → unknown.
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, opt, unknown, yes } from '../util.js';

/** Parsed pkttype match. */
export interface PkttypeMatch {
  type: 'unicast' | 'broadcast' | 'multicast' | 'host' | 'otherhost';
  negated: boolean;
}

/** The pkttype match extension. */
export const pkttypeMatch: ExtensionBase<PkttypeMatch> = {
  name: 'pkttype',
  optionNames: ['pkt-type'],
  parse(options) {
    const o = opt(options, 'pkt-type');
    const t = o?.args[0]?.toLowerCase();
    if (!o || !t || !['unicast', 'broadcast', 'multicast', 'host', 'otherhost'].includes(t)) return err(`pkttype: invalid --pkt-type "${o?.args[0] ?? ''}"`, 'pkt-type');
    return ok({ type: t as PkttypeMatch['type'], negated: o.negated });
  },
  describe: (v) => `PKTTYPE ${v.negated ? '!' : ''}= ${v.type}`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const spec = `${v.negated ? '! ' : ''}--pkt-type ${v.type}`;
    if (p.local) return unknown(`${spec}: link-layer type of a locally generated packet not modelled`);
    const at = ctx.host.addrTypes(p.dst);
    if ('unknown' in at) return unknown(`${spec}: ${at.unknown}`);
    const have = at.types.has('MULTICAST') ? 'multicast' : at.types.has('BROADCAST') ? 'broadcast' : 'unicast';
    const want = v.type === 'host' ? 'unicast' : v.type;
    if (v.type === 'otherhost') return unknown(`${spec}: whether the frame was addressed to another host is not modelled`);
    const hit = want === have;
    const d = `${spec} ${hit ? '=' : '≠'} ${have}`;
    return hit !== v.negated ? yes(d) : no(d);
  },
};
