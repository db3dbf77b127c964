/**
 * Test helpers: a kube-proxy resync made by editing a real dump, and real-dump paths.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** ../shared/dumps/real/ from the repository root. */
export const REAL_DUMPS = fileURLToPath(new URL('../../../../shared/dumps/real/', import.meta.url));
export const KUBE_OVERALL = REAL_DUMPS + 'kube-proxy-overall.rules';
export const kubeOverallPresent = existsSync(KUBE_OVERALL);
/** The same services as a node's full state (builtin chains jump into the KUBE- chains). */
export const KUBE_TRACEPACKET = REAL_DUMPS + 'kube-proxy-tracepacket.rules';
export const kubeTracepacketPresent = existsSync(KUBE_TRACEPACKET);

/** Replace exactly one occurrence (the test fails loudly if the dump is not what it expects). */
export function replaceOnce(text: string, from: string, to: string): string {
  const k = text.indexOf(from);
  if (k < 0 || text.indexOf(from, k + 1) >= 0) throw new Error(`expected exactly one occurrence of: ${from}`);
  return text.slice(0, k) + to + text.slice(k + from.length);
}

/** The resync: ns1/svc1 gains endpoint 10.180.0.9, ns4/svc4 loses 10.180.0.5. */
export function resync(old: string): string {
  let t = old;
  // svc1: new SEP chain declared next to the others, its two rules, and the SVC chain now picks 1 of 2.
  t = replaceOnce(t, ':KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]\n', ':KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]\n:KUBE-SEP-ZZNEWENDPOINT9AA - [0:0]\n');
  t = replaceOnce(
    t,
    '-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4',
    '-A KUBE-SEP-ZZNEWENDPOINT9AA -m comment --comment ns1/svc1:p80 -s 10.180.0.9 -j KUBE-MARK-MASQ\n' +
      '-A KUBE-SEP-ZZNEWENDPOINT9AA -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.9:80\n' +
      '-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4',
  );
  t = replaceOnce(
    t,
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ\n',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ\n' +
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.9:80" -j KUBE-SEP-ZZNEWENDPOINT9AA\n',
  );
  // svc4: endpoint 10.180.0.5 gone: its SEP chain, its SVC rule, and the statistic on the survivor.
  t = replaceOnce(t, ':KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]\n', '');
  t = replaceOnce(t, '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ\n', '');
  t = replaceOnce(t, '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80\n', '');
  t = replaceOnce(t, '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ\n', '');
  t = replaceOnce(
    t,
    '"ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC',
    '"ns4/svc4:p80 -> 10.180.0.4:80" -j KUBE-SEP-UKSFD7AGPMPPLUHC',
  );
  return t;
}

