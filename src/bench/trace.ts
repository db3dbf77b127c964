/**
 * Trace benchmark (ENGINE): the engine on generated kube-proxy dumps.
 *  - latency: the 434k-line dump (10k Services × 10 endpoints); one clusterIP trace from a pod
 *    (all 10 endpoint outcomes explored), median over many different Services after load and after
 *    the first trace (which builds the dispatch indexes) — target ≤ 5 ms;
 *  - throughput: the 43k-line dump (1k Services × 10 endpoints); clusterIP traces over every
 *    Service in one-second rounds, median round — target ≥ 10,000 traces/s (measured after the
 *    big dump is released, so its heap does not weigh on the small one's garbage collection);
 *  - the same latency without the dispatch index (every rule evaluated), to show what it buys.
 * Wall time and CPU time (process.cpuUsage) are both reported: on a shared machine the wall clock
 * includes time spent waiting for a CPU.
 *
 * Section `trace` of `npm run bench`; alone: `node --expose-gc dist/bench/trace.js [--quick] [--json]`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Ruleset } from '../core/model.js';
import { resolveContext, trace } from '../core/netfilter/index.js';
import type { HostContext, PacketSpec } from '../core/netfilter/types.js';
import { parseRuleset } from '../core/parse/index.js';
import { generateKubeProxyDump } from '../gen/kubeproxy.js';
import { median, type BenchContext, type BenchSection, type BenchTable } from './types.js';

/** A node like the one kube-proxy's rules run on: a pod bridge and an uplink. */
export const BENCH_CONTEXT: HostContext = resolveContext({
  interfaces: [
    { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', kind: 'ether', addresses: ['192.168.1.2/24'] },
    { name: 'cni0', kind: 'bridge', addresses: ['10.244.1.1/24'] },
  ],
  routes: [{ dst: 'default', dev: 'eth0', via: '192.168.1.1' }],
  sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true },
}).context;

/** ClusterIP packets from a pod, one per Service of the dump. */
export function clusterIpPackets(text: string): PacketSpec[] {
  const out: PacketSpec[] = [];
  const re = /^(?:\[\d+:\d+\] )?-A KUBE-SERVICES -d (\S+)\/32 -p (\w+) .*--dport (\d+) /gm;
  for (const m of text.matchAll(re)) {
    out.push({ proto: m[2]!, src: '10.244.1.5', sport: 40000, dst: m[1]!, dport: Number(m[3]), iif: 'cni0' });
  }
  return out;
}

/** Figures of the trace benchmark. */
export interface TraceBenchResult {
  latency: { services: number; lines: number; parseMs: number; firstMs: number; traces: number; medianMs: number; p95Ms: number; cpuMedianMs: number; outcomesPerTrace: number; stepsPerOutcome: number; targetMs: number; pass: boolean };
  unindexed: { traces: number; medianMs: number };
  /** perSecond / cpuPerSecond: medians over `rounds` one-second rounds (wall clock / CPU time). */
  throughput: { services: number; lines: number; seconds: number; traces: number; rounds: number; perSecond: number; cpuPerSecond: number; roundsPerSecond: number[]; target: number; pass: boolean };
}

const r1 = (x: number) => Math.round(x * 100) / 100;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function latency(rs: Ruleset, pkts: PacketSpec[], n: number, index: boolean) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let outcomes = 0;
  let steps = 0;
  for (let i = 0; i < n; i++) {
    const p = pkts[(i * 7919) % pkts.length]!;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = trace(rs, BENCH_CONTEXT, p, { index });
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    outcomes += r.outcomes.length;
    for (const o of r.outcomes) steps += o.steps.length;
  }
  const sorted = [...wall].sort((a, b) => a - b);
  return { medianMs: median(wall), p95Ms: sorted[Math.floor(sorted.length * 0.95)]!, cpuMedianMs: median(cpu), outcomesPerTrace: outcomes / n, stepsPerOutcome: steps / Math.max(1, outcomes) };
}

/** Latency figures on the big dump (its ruleset is garbage once this returns). */
function bigDumpFigures(bigServices: number, quick: boolean, log: (s: string) => void) {
  log(`trace: generating ${bigServices}×10 dump`);
  const bigText = generateKubeProxyDump({ services: bigServices, endpoints: 10, seed: 1 });
  gc();
  let t0 = performance.now();
  const big = parseRuleset(bigText, { file: 'kube-proxy-big' }).ruleset;
  const parseMs = performance.now() - t0;
  const bigPkts = clusterIpPackets(bigText);
  t0 = performance.now();
  trace(big, BENCH_CONTEXT, bigPkts[0]!);
  const firstMs = performance.now() - t0;
  for (let i = 0; i < 50; i++) trace(big, BENCH_CONTEXT, bigPkts[(i * 31) % bigPkts.length]!);
  const n = quick ? 200 : 1000;
  log(`trace: latency over ${n} clusterIP traces`);
  const lat = latency(big, bigPkts, n, true);
  log('trace: latency without the index');
  const un = latency(big, bigPkts, quick ? 5 : 20, false);

  return { lines: bigText.split('\n').length - 1, parseMs, firstMs, n, lat, un };
}

/** Run the trace benchmark. */
export function runTraceBench(opts: { quick?: boolean; log?: (s: string) => void } = {}): TraceBenchResult {
  const log = opts.log ?? (() => {});
  const bigServices = opts.quick ? 1000 : 10000;
  const smallServices = opts.quick ? 200 : 1000;

  // The 434k-line dump is measured in its own function so that it can be collected before the
  // throughput run: the 43k-line measurement should not pay for a 400 MB heap it does not use.
  const big = bigDumpFigures(bigServices, opts.quick === true, log);
  gc();
  log(`trace: generating ${smallServices}×10 dump`);
  const smallText = generateKubeProxyDump({ services: smallServices, endpoints: 10, seed: 2 });
  const small = parseRuleset(smallText, { file: 'kube-proxy-small' }).ruleset;
  const smallPkts = clusterIpPackets(smallText);
  for (const p of smallPkts) trace(small, BENCH_CONTEXT, p);
  gc();
  // Several rounds of one second; the median round is reported (the shared machine's load varies
  // within seconds), in wall-clock time and in CPU time of this process.
  const rounds = opts.quick ? 3 : 7;
  const roundSeconds = opts.quick ? 0.4 : 1;
  log(`trace: throughput, ${rounds} rounds of ${roundSeconds}s`);
  let count = 0;
  let elapsed = 0;
  const wallRates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < roundSeconds * 1000) {
      for (let k = 0; k < 100; k++) trace(small, BENCH_CONTEXT, smallPkts[(count + n++) % smallPkts.length]!);
    }
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    count += n;
    elapsed += wall;
    wallRates.push(n / wall);
    cpuRates.push(n / ((c.user + c.system) / 1e6));
  }
  const perSecond = median(wallRates);
  return {
    latency: {
      services: bigServices,
      lines: big.lines,
      parseMs: Math.round(big.parseMs),
      firstMs: r1(big.firstMs),
      traces: big.n,
      medianMs: r1(big.lat.medianMs),
      p95Ms: r1(big.lat.p95Ms),
      cpuMedianMs: r1(big.lat.cpuMedianMs),
      outcomesPerTrace: r1(big.lat.outcomesPerTrace),
      stepsPerOutcome: r1(big.lat.stepsPerOutcome),
      targetMs: 5,
      pass: big.lat.medianMs <= 5,
    },
    unindexed: { traces: opts.quick ? 5 : 20, medianMs: r1(big.un.medianMs) },
    throughput: {
      services: smallServices,
      lines: smallText.split('\n').length - 1,
      seconds: r1(elapsed),
      traces: count,
      rounds,
      perSecond: Math.round(perSecond),
      cpuPerSecond: Math.round(median(cpuRates)),
      roundsPerSecond: wallRates.map((x) => Math.round(x)),
      target: 10000,
      pass: perSecond >= 10000,
    },
  };
}

function tables(r: TraceBenchResult, quick: boolean): BenchTable[] {
  const L = r.latency;
  const T = r.throughput;
  return [
    {
      title: `trace latency: one clusterIP trace from a pod, ${L.lines.toLocaleString('en-US')}-line dump (${L.services.toLocaleString('en-US')} Services × 10 endpoints)`,
      columns: ['measure', 'value'],
      rows: [
        ['parse + link', `${L.parseMs} ms`],
        ['first trace (builds the dispatch indexes)', `${L.firstMs} ms`],
        [`median over ${L.traces} traces (wall)`, `${L.medianMs} ms`],
        ['p95 (wall)', `${L.p95Ms} ms`],
        ['median CPU time', `${L.cpuMedianMs} ms`],
        ['outcomes per trace / steps per outcome', `${L.outcomesPerTrace} / ${L.stepsPerOutcome}`],
        [`median without the index (${r.unindexed.traces} traces)`, `${r.unindexed.medianMs} ms`],
      ],
      notes: [`target ≤ ${L.targetMs} ms median: ${L.pass ? 'PASS' : 'FAIL'}${quick ? ' (quick run: smaller dump)' : ''}`],
    },
    {
      title: `trace throughput: clusterIP traces over every Service, ${T.lines.toLocaleString('en-US')}-line dump (${T.services.toLocaleString('en-US')} Services × 10 endpoints)`,
      columns: ['measure', 'value'],
      rows: [
        ['traces', String(T.traces)],
        ['elapsed', `${T.seconds} s`],
        [`traces/s (wall), median of ${T.rounds} rounds`, T.perSecond.toLocaleString('en-US')],
        ['traces per CPU-second (median round)', T.cpuPerSecond.toLocaleString('en-US')],
        ['rounds (wall traces/s)', T.roundsPerSecond.map((x) => x.toLocaleString('en-US')).join(', ')],
      ],
      notes: [
        `target ≥ ${T.target.toLocaleString('en-US')} traces/s: ${T.pass ? 'PASS' : 'FAIL'}${quick ? ' (quick run: smaller dump)' : ''}`,
        'each trace explores all 10 endpoint outcomes (statistic branches) with every step recorded',
      ],
    },
  ];
}

/** The `trace` section of `npm run bench`. */
export const section: BenchSection = {
  name: 'trace',
  description: 'engine: clusterIP trace latency (434k lines) and throughput (43k lines)',
  async run(ctx: BenchContext): Promise<BenchTable[]> {
    return tables(runTraceBench({ quick: ctx.quick, log: ctx.log }), ctx.quick);
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const r = runTraceBench({ quick, log: (s) => process.stderr.write(s + '\n') });
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else for (const t of tables(r, quick)) process.stdout.write(`${t.title}\n${t.rows.map((x) => `  ${x[0]}: ${x[1]}`).join('\n')}\n${(t.notes ?? []).map((x) => `  ${x}`).join('\n')}\n`);
}
