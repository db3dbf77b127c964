/**
 * Shared code of -m esp / -m ah / -m mh: the header fields (SPI, MH type) are not modelled, but a
 * packet of another protocol never matches (xt_esp.c, ip6t_ah.c, ip6t_mh.c check the protocol).
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, no, optionsText, unknown } from '../util.js';

/** Kept options. */
export interface IpsecProtoMatch {
  options: MatchOption[];
}

/** Build a protocol-header match. */
export function protoHeaderMatch(name: string, protoNum: number, options: readonly string[], flags: readonly string[] = []): ExtensionBase<IpsecProtoMatch> {
  return {
    name,
    optionNames: options,
    ...(flags.length ? { flagOptions: flags } : {}),
    parse: (o) => keepOptions(o),
    describe: (v) => `${name} ${optionsText(v.options)}`,
    evaluate(v, ctx) {
      const spec = `-m ${name} ${optionsText(v.options)}`;
      if (ctx.packet.protoNum !== protoNum) return no(`${spec}: packet is ${ctx.packet.proto}`);
      return unknown(`${spec}: ${name} header fields are not modelled`);
    },
  };
}
