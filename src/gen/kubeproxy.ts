/**
 * A kube-proxy–shaped iptables-save dump (iptables mode), for benchmarks and tests: what
 * `iptables-save -c` prints on a node with S Services × E endpoints.
 *
 * Shape (kube-proxy pkg/proxy/iptables/proxier.go, as iptables-save prints it back — canonical
 * option order, `--set-xmark` for `--or-mark`, probabilities with 11 decimals):
 *   nat  KUBE-SERVICES   one dispatch rule per Service:
 *          -d CLUSTER_IP/32 -p tcp -m comment --comment "ns/svc:port cluster IP" -m tcp --dport P -j KUBE-SVC-…
 *        KUBE-SVC-*      masquerade off-cluster sources, then one `-m statistic --mode random
 *                        --probability 1/(E-i)` rule per endpoint (the last one unconditional)
 *        KUBE-SEP-*      `-s EP/32 -j KUBE-MARK-MASQ` (hairpin) and `-m tcp -j DNAT --to-destination EP:PORT`
 *        KUBE-NODEPORTS  `-p tcp … --dport NODEPORT -j KUBE-EXT-…` for NodePort Services (every 10th)
 *        KUBE-EXT-*      mark for masquerade, then jump to the Service chain
 *        KUBE-MARK-MASQ, KUBE-POSTROUTING (MASQUERADE --random-fully)
 *   filter KUBE-FORWARD, KUBE-SERVICES (REJECT for Services without endpoints), KUBE-NODEPORTS,
 *        KUBE-EXTERNAL-SERVICES, KUBE-FIREWALL, KUBE-PROXY-FIREWALL, KUBE-PROXY-CANARY.
 *
 * Deterministic for a given seed. Lines: about 43 per Service at 10 endpoints (1k×10 ≈ 43k).
 * Accepted by `iptables-restore --test` (the benchmark checks that).
 */

/** Options of generateKubeProxyDump. */
export interface KubeProxyDumpOptions {
  services: number;
  endpoints: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Print `[pkts:bytes]` counters like `iptables-save -c` (default true). */
  counters?: boolean;
}

/** mulberry32: a small deterministic PRNG (also used by tests that need reproducible randomness). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The probability iptables-save prints for `--probability p`: the kernel keeps
 * lround(p * 2^31) and iptables prints it back with %.11f (libxt_statistic.c).
 */
export function savedProbability(p: number): string {
  const stored = Math.round(p * 0x80000000);
  return (stored / 0x80000000).toFixed(11);
}

function ipv4(base: [number, number], index: number): string {
  // base a.b, then index spread over the last two octets (skipping .0 and .255 hosts).
  const hi = Math.floor(index / 250);
  const lo = (index % 250) + 1;
  return `${base[0]}.${base[1] + Math.floor(hi / 256)}.${hi % 256}.${lo}`;
}

/** Generate the dump text. */
export function generateKubeProxyDump(opts: KubeProxyDumpOptions): string {
  const S = Math.max(0, Math.floor(opts.services));
  const E = Math.max(0, Math.floor(opts.endpoints));
  const rnd = prng(opts.seed ?? 1);
  const withCounters = opts.counters ?? true;
  const usedNames = new Set<string>();
  const hashName = (prefix: string): string => {
    for (;;) {
      let s = prefix;
      for (let i = 0; i < 16; i++) s += B32[Math.floor(rnd() * 32)];
      if (!usedNames.has(s)) {
        usedNames.add(s);
        return s;
      }
    }
  };
  const ctr = (): string => {
    if (!withCounters) return '';
    const p = rnd() < 0.7 ? 0 : Math.floor(rnd() * 5000);
    return `[${p}:${p * (60 + Math.floor(rnd() * 1400))}] `;
  };
  const chainCtr = (): string => (withCounters ? `[${Math.floor(rnd() * 100000)}:${Math.floor(rnd() * 100000000)}]` : '[0:0]');

  // nat table chains: name → rules (in order)
  const natUser = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, chain: string, rule: string): void => {
    let r = m.get(chain);
    if (!r) m.set(chain, (r = []));
    r.push(rule);
  };
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING']) natUser.set(c, []);
  const filterUser = new Map<string, string[]>();
  for (const c of ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY', 'KUBE-NODEPORTS', 'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']) {
    filterUser.set(c, []);
  }

  const portNames = ['http', 'https', 'grpc', 'metrics', 'dns', 'web'];
  const podCidr = '10.244.0.0/16';
  let epIndex = 0;
  const dispatch: string[] = [];
  for (let s = 0; s < S; s++) {
    const ns = `ns-${Math.floor(s / 50)}`;
    const svc = `svc-${s}`;
    const portName = portNames[s % portNames.length];
    const proto = s % 17 === 5 ? 'udp' : 'tcp';
    const port = [80, 443, 8080, 9090, 53, 3000][s % 6];
    const targetPort = port === 80 ? 8080 : port + 1;
    const clusterIP = ipv4([10, 96], s);
    const svcPort = `${ns}/${svc}:${portName}`;
    const svcChain = hashName('KUBE-SVC-');
    const nodePort = s % 10 === 3 ? 30000 + (s % 2768) : 0;
    const eps = s % 97 === 11 ? 0 : E; // a few Services without endpoints
    if (eps === 0) {
      add(filterUser, 'KUBE-SERVICES', `-d ${clusterIP}/32 -p ${proto} -m comment --comment "${svcPort} has no endpoints" -m ${proto} --dport ${port} -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    dispatch.push(`${ctr()}-A KUBE-SERVICES -d ${clusterIP}/32 -p ${proto} -m comment --comment "${svcPort} cluster IP" -m ${proto} --dport ${port} -j ${svcChain}`);
    add(natUser, svcChain, `${ctr()}-A ${svcChain} ! -s ${podCidr} -d ${clusterIP}/32 -p ${proto} -m comment --comment "${svcPort} cluster IP" -m ${proto} --dport ${port} -j KUBE-MARK-MASQ`);
    if (nodePort) {
      const ext = hashName('KUBE-EXT-');
      add(natUser, 'KUBE-NODEPORTS', `${ctr()}-A KUBE-NODEPORTS -p ${proto} -m comment --comment "${svcPort}" -m ${proto} --dport ${nodePort} -j ${ext}`);
      add(natUser, ext, `${ctr()}-A ${ext} -m comment --comment "masquerade traffic for ${svcPort} external destinations" -j KUBE-MARK-MASQ`);
      add(natUser, ext, `${ctr()}-A ${ext} -j ${svcChain}`);
    }
    for (let e = 0; e < eps; e++) {
      const ep = ipv4([10, 244], epIndex++);
      const sep = hashName('KUBE-SEP-');
      const left = eps - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${savedProbability(1 / left)}` : '';
      add(natUser, svcChain, `${ctr()}-A ${svcChain} -m comment --comment "${svcPort} -> ${ep}:${targetPort}"${stat} -j ${sep}`);
      add(natUser, sep, `${ctr()}-A ${sep} -s ${ep}/32 -m comment --comment "${svcPort}" -j KUBE-MARK-MASQ`);
      add(natUser, sep, `${ctr()}-A ${sep} -p ${proto} -m comment --comment "${svcPort}" -m ${proto} -j DNAT --to-destination ${ep}:${targetPort}`);
    }
  }
  // KUBE-SERVICES: dispatch rules, then the NodePort catch-all last (kube-proxy keeps it last).
  natUser.set('KUBE-SERVICES', [
    ...dispatch,
    `${ctr()}-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  ]);
  natUser.set('KUBE-MARK-MASQ', [`${ctr()}-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000`]);
  natUser.set('KUBE-POSTROUTING', [
    `${ctr()}-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
    `${ctr()}-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0`,
    `${ctr()}-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  ]);
  const filterRules = filterUser;
  filterRules.set('KUBE-SERVICES', (filterUser.get('KUBE-SERVICES') ?? []).map((r) => `${ctr()}-A KUBE-SERVICES ${r}`));
  filterRules.set('KUBE-FIREWALL', [
    `${ctr()}-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
  ]);
  filterRules.set('KUBE-FORWARD', [
    `${ctr()}-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
    `${ctr()}-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
    `${ctr()}-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ]);

  const out: string[] = [];
  const stamp = 'Fri Nov 27 06:00:00 2026';
  const emitTable = (
    name: string,
    builtins: string[],
    builtinRules: Record<string, string[]>,
    user: Map<string, string[]>,
  ): void => {
    out.push(`# Generated by iptables-save v1.8.9 (nf_tables) on ${stamp}`);
    out.push(`*${name}`);
    for (const b of builtins) out.push(`:${b} ACCEPT ${chainCtr()}`);
    const names = [...user.keys()].sort();
    for (const c of names) out.push(`:${c} - ${withCounters ? '[0:0]' : '[0:0]'}`);
    for (const b of builtins) for (const r of builtinRules[b] ?? []) out.push(`${ctr()}-A ${b} ${r}`);
    for (const c of names) for (const r of user.get(c)!) out.push(r);
    out.push('COMMIT');
    out.push(`# Completed on ${stamp}`);
  };
  out.push('# Warning: iptables-legacy tables present, use iptables-legacy-save to see them');
  emitTable(
    'nat',
    ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
    {
      PREROUTING: ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
      OUTPUT: ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
      POSTROUTING: ['-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'],
    },
    natUser,
  );
  emitTable(
    'filter',
    ['INPUT', 'FORWARD', 'OUTPUT'],
    {
      INPUT: [
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-j KUBE-FIREWALL',
      ],
      FORWARD: [
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      ],
      OUTPUT: [
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-j KUBE-FIREWALL',
      ],
    },
    filterRules,
  );
  return out.join('\n') + '\n';
}
