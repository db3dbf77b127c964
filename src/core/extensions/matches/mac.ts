/**
 * -m mac: [!] --mac-source XX:XX:XX:XX:XX:XX. Like xt_mac.c: only for packets with an Ethernet
 * header (PREROUTING, INPUT, FORWARD); compares the frame's source MAC. Unknown when the packet
 * description gives no source MAC.
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, opt, unknown, unknownOption, yes } from '../util.js';

/** Parsed mac match. */
export interface MacMatch {
  mac: string;
  negated: boolean;
}

/** The mac match extension. */
export const macMatch: ExtensionBase<MacMatch> = {
  name: 'mac',
  optionNames: ['mac-source'],
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  parse(options) {
    const bad = unknownOption<MacMatch>(options, ['mac-source'], 'mac');
    if (bad) return bad;
    const o = opt(options, 'mac-source');
    const m = o?.args[0]?.toLowerCase();
    if (!o || !m || !/^([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}$/.test(m)) return err(`mac: invalid --mac-source "${o?.args[0] ?? ''}"`, 'mac-source');
    return ok({ mac: normMac(m), negated: o.negated });
  },
  describe: (v) => `MAC ${v.negated ? '! ' : ''}${v.mac.toUpperCase()}`,
  evaluate(v, ctx) {
    const spec = `${v.negated ? '! ' : ''}--mac-source ${v.mac}`;
    const p = ctx.packet;
    if (p.iif === 'lo') {
      // like xt_mac's mac_mt: `if (skb->dev == NULL || skb->dev->type != ARPHRD_ETHER) return false;`
      // before the address is compared and before `!` is applied — on loopback neither
      // `--mac-source X` nor `! --mac-source X` matches (kernel-confirmed: k-variants-v4).
      return no(`${spec}: lo is not an Ethernet device (no MAC header; never matches, negated or not)`);
    }
    if (!p.srcMac) return unknown(`${spec}: the packet's source MAC is not given`);
    const have = normMac(p.srcMac.toLowerCase());
    const hit = have === v.mac;
    const d = `${spec} ${hit ? '=' : '≠'} ${have}`;
    return hit !== v.negated ? yes(d) : no(d);
  },
};

function normMac(m: string): string {
  return m
    .split(':')
    .map((x) => x.padStart(2, '0'))
    .join(':');
}
