/**
 * Kernel conformance: every scenario packet replayed through the real Linux netfilter in network
 * namespaces built from the scenario's context; the path the kernel reports (nft trace: matched
 * rules and deciding policies, in order) must equal the engine's path for that packet — for
 * statistic branches, one of the engine's outcomes — and the scenario's expected path when given.
 *
 * Runs when the process is root and `ip netns`, nft, iptables-restore and python3 work; otherwise
 * the whole file is skipped with one line saying why. See /work/notes/README-KERNEL.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listScenarios, loadScenario, type LoadedScenario } from '../../src/sources/scenario.js';
import { expectedOutcomes, outcomePath, parseEndpoint } from '../../src/core/scenario-check.js';
import type { Outcome } from '../../src/core/netfilter/types.js';
import { resolveContext, trace } from '../../src/core/netfilter/index.js';
import { packetTraceOptions } from '../../src/core/scenario-run.js';
import type { ExpectedOutcome } from '../../src/core/scenario.js';
import { KernelSession, type FlowTargets } from './lib/replay.js';
import type { KernelPath } from './lib/nfttrace.js';
import type { TableName } from '../../src/core/model.js';
import ipaddr from 'ipaddr.js';
import { ipsetAvailable, kernelAvailable } from './lib/probe.js';
import { sweepOwn, sweepStale } from './lib/topology.js';
import { sideBySide } from './lib/report.js';
import { Coverage } from './lib/coverage.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCENARIOS = path.join(ROOT, 'scenarios');

const availability = await kernelAvailable();
if (!availability.ok) console.log(`kernel conformance skipped: ${availability.reason}`);

const loaded: LoadedScenario[] = availability.ok
  ? await Promise.all((await listScenarios(SCENARIOS)).map((d) => loadScenario(d)))
  : [];
const haveIpset = availability.ok ? await ipsetAvailable() : false;

/**
 * Candidate final destinations of a flow (where its listeners go), from expectations and the
 * engine. Not for reply packets (their outcome describes the reply): the harness then finds the
 * flow's destination from the kernel's trace of the flow's first packet.
 */
function flowTargets(exp: ExpectedOutcome[], outcomes: Outcome[], reply: boolean): FlowTargets {
  const out: FlowTargets = [];
  if (reply) return out;
  for (const e of exp) {
    const ep = e.dst ? parseEndpoint(e.dst) : null;
    if (ep?.port !== undefined) out.push({ addr: ep.addr, port: ep.port });
  }
  for (const o of outcomes) {
    if (o.packet.dport !== undefined) out.push({ addr: o.packet.dst, port: o.packet.dport });
  }
  return out;
}

/**
 * What the kernel's way of ending says about a disposition. A packet the routing decision drops
 * (forwarding off, no route) leaves no terminal trace event: its path just stops.
 */
function endMatches(end: string, disposition: string | undefined, iface: string | undefined, byRule = true): boolean {
  switch (disposition) {
    case undefined:
      return true;
    case 'delivered':
      return end === 'delivered';
    case 'forwarded':
    case 'sent':
      return end.startsWith('left ') && (iface === undefined || end === `left ${iface}`);
    case 'dropped':
      return end === 'drop' || (!byRule && end === 'no terminal event');
    case 'rejected':
      return end === 'drop';
    case 'no-route':
      return end === 'no terminal event';
    default:
      return true;
  }
}

const coverage = new Coverage();

/** Canonical text of an address. */
function canonAddr(a: string): string {
  return ipaddr.process(a).toString();
}

/**
 * The packet's final addresses as the kernel printed them at its last hook (after any NAT) against
 * the engine's final packet. Only for packets that were delivered or left, and not when a NAT rule
 * on the path names an address range (the kernel picks any address of it).
 */
function compareAddresses(k: KernelPath, o: Outcome, ls: LoadedScenario): string | null {
  if (!(k.end === 'delivered' || k.end.startsWith('left '))) return null;
  for (const step of k.path) {
    const [table, chain, pos] = step.split(':');
    if (pos === 'policy') continue;
    const rule = ls.parse.ruleset.tables.get(table as TableName)?.chains.get(chain!)?.rules[Number(pos) - 1];
    if (rule?.target?.options.some((opt) => /^to(-destination|-source)?$/.test(opt.name) && opt.args.some((a) => /[0-9a-f]-[0-9a-f]/i.test(a.split(':')[0]!.replace(/^\[|\]$/g, ''))))) return null;
  }
  const diffs: string[] = [];
  if (k.finalMark !== undefined && k.finalMark !== o.packet.mark) diffs.push(`mark 0x${k.finalMark.toString(16)} (kernel) ≠ 0x${o.packet.mark.toString(16)} (engine)`);
  if (k.finalSrc && canonAddr(k.finalSrc.addr) !== canonAddr(o.packet.src)) diffs.push(`source ${k.finalSrc.addr} (kernel) ≠ ${o.packet.src} (engine)`);
  if (k.finalDst && canonAddr(k.finalDst.addr) !== canonAddr(o.packet.dst)) diffs.push(`destination ${k.finalDst.addr} (kernel) ≠ ${o.packet.dst} (engine)`);
  // Routed or not: ip_forward decrements the TTL / hop limit, bridging (also after a DNAT) does not.
  const ttlWord = ls.scenario.family === 'ipv6' ? 'hop limit' : 'TTL';
  if (k.finalTtl !== undefined && k.finalTtl !== o.packet.ttl) diffs.push(`${ttlWord} ${k.finalTtl} (kernel) ≠ ${o.packet.ttl} (engine)`);
  if (k.end.startsWith('left ') && k.finalOif !== undefined && o.packet.oif !== undefined && k.finalOif !== o.packet.oif) {
    diffs.push(`output interface ${k.finalOif} (kernel) ≠ ${o.packet.oif} (engine)`);
  }
  // The bridge ports of a frame the bridge forwarded, when the engine knows them.
  if (k.physOut !== undefined && o.packet.physOut !== undefined && k.physOut !== o.packet.physOut) diffs.push(`physdev-out ${k.physOut} (kernel) ≠ ${o.packet.physOut} (engine)`);
  if (k.physIn !== undefined && o.packet.physIn !== undefined && k.physIn !== o.packet.physIn) diffs.push(`physdev-in ${k.physIn} (kernel) ≠ ${o.packet.physIn} (engine)`);
  return diffs.length ? `the packet's final ${diffs.join(', ')}` : null;
}

/**
 * An ICMP error (related) as its receiver got it against the engine's final packet: outer source,
 * and the quoted packet's addresses and ports after the kernel's translation.
 */
function receivedProblem(k: KernelPath, o: Outcome): string | null {
  if (k.received === undefined) return null;
  const e = o.packet.embedded;
  if (k.received === null) return `the ICMP error never reached ${o.packet.dst} (the engine's destination)`;
  const diffs: string[] = [];
  if (canonAddr(k.received.src) !== canonAddr(o.packet.src)) diffs.push(`source ${k.received.src} (received) ≠ ${o.packet.src} (engine)`);
  if (!e) diffs.push('the engine shows no embedded header');
  else {
    const r = k.received.inner;
    const got = `${r.src}:${r.sport} → ${r.dst}:${r.dport}`;
    const want = `${canonAddr(e.src)}:${e.sport} → ${canonAddr(e.dst)}:${e.dport}`;
    if (`${canonAddr(r.src)}:${r.sport} → ${canonAddr(r.dst)}:${r.dport}` !== want) diffs.push(`embedded ${got} (received) ≠ ${want} (engine)`);
  }
  return diffs.length ? `the received error's ${diffs.join(', ')}` : null;
}

/** How the kernel's packet disagrees with one expected outcome that has its path (end, final addresses). */
function expectedIssues(k: KernelPath, e: ExpectedOutcome): string[] {
  const out: string[] = [];
  if (!endMatches(k.end, e.disposition, e.iface, k.path.length > 0 && !k.end.startsWith('no '))) {
    out.push(`the kernel's packet ended "${k.end}", the scenario expects ${e.disposition}${e.iface ? ` ${e.iface}` : ''}`);
  }
  if (k.end === 'delivered' || k.end.startsWith('left ')) {
    if (e.mark !== undefined && k.finalMark !== undefined && e.mark !== k.finalMark) {
      out.push(`the kernel's final mark is 0x${k.finalMark.toString(16)}, the scenario expects 0x${e.mark.toString(16)}`);
    }
    for (const [field, got] of [['dst', k.finalDst], ['src', k.finalSrc]] as const) {
      const want = e[field] ? parseEndpoint(e[field]!) : null;
      if (!want || !got) continue;
      const gotText = `${got.addr}${got.port !== undefined ? `:${got.port}` : ''}`;
      if (canonAddr(got.addr) !== canonAddr(want.addr) || (want.port !== undefined && got.port !== want.port)) {
        out.push(`the kernel's final ${field} is ${gotText}, the scenario expects ${e[field]}`);
      }
    }
  }
  return out;
}

describe.skipIf(!availability.ok)('kernel conformance (real netfilter in network namespaces)', () => {
  beforeAll(async () => {
    const stale = await sweepStale();
    if (stale.length) console.log(`kernel conformance: removed ${stale.length} stale namespace(s) of earlier runs`);
  });
  afterAll(async () => {
    // Belt and braces: nothing of this process may survive the suite.
    await sweepOwn();
    if (process.env.IPTSCOPE_KERNEL_COVERAGE) writeFileSync(process.env.IPTSCOPE_KERNEL_COVERAGE, coverage.markdown());
  });

  loaded.forEach((ls, si) => {
    const sc = ls.scenario;
    const needsIpset = (sc.context.ipsets ?? []).length > 0 && !haveIpset;
    if (needsIpset) console.log(`kernel conformance: ${sc.name} skipped: its context has ipsets and the ipset tool is not installed`);
    describe.skipIf(needsIpset)(sc.name, () => {
      const session = new KernelSession(sc, ls.rulesText, `ipsc-${process.pid}-${si}`);
      let setupError: Error | null = null;
      beforeAll(async () => {
        try {
          await session.setup();
        } catch (e) {
          setupError = e as Error;
        }
      });
      afterAll(async () => {
        const errs = await session.teardown();
        if (errs.length) throw new Error(`cleanup of ${sc.name} failed: ${errs.join('; ')}`);
      });

      sc.packets.forEach((sp, pi) => {
        if (sp.kernelSkip) {
          it.skip(`${sp.name} — kernelSkip: ${sp.kernelSkip}`, () => undefined);
          console.log(`kernel conformance: ${sc.name}/${sp.name} not replayed: ${sp.kernelSkip}`);
          return;
        }
        it(sp.name, async () => {
          if (setupError) throw new Error(`setting up ${sc.name} in the kernel failed: ${setupError.message}`);
          const exp = expectedOutcomes(sp.expect);
          const { context } = resolveContext(sc.context);
          const engineOutcomes: Outcome[] = trace(ls.parse.ruleset, context, sp.packet, packetTraceOptions(sp)).outcomes;
          // An ICMP error about a flow: the flow's listeners go where its first packet ends.
          let targets: FlowTargets;
          if (sp.packet.related) {
            const first = { ...sp.packet };
            delete first.related;
            targets = flowTargets([], trace(ls.parse.ruleset, context, first, packetTraceOptions(sp)).outcomes, false);
          } else targets = flowTargets(exp, engineOutcomes, sp.packet.reply === true);
          const arrives = engineOutcomes.find((o) => ['delivered', 'forwarded', 'sent'].includes(o.disposition.kind));
          const k = await session.replay(sp, pi, targets, sp.packet.related ? arrives?.packet.dst : undefined);
          const where = `${sc.name} / ${sp.name}`;
          if (process.env.IPTSCOPE_KERNEL_RECORD) {
            appendFileSync(process.env.IPTSCOPE_KERNEL_RECORD, JSON.stringify({ scenario: sc.name, packet: sp.name, path: k.path, end: k.end }) + '\n');
          }
          if (process.env.IPTSCOPE_KERNEL_VERBOSE) {
            const finals = [
              k.finalTtl !== undefined ? `${sc.family === 'ipv6' ? 'hop limit' : 'ttl'} ${k.finalTtl}` : '',
              k.finalOif ? `oif ${k.finalOif}` : '',
              k.physIn || k.physOut ? `physdev ${k.physIn ?? '?'} → ${k.physOut ?? '?'}` : '',
            ].filter(Boolean).join(', ');
            console.log(`${where}: kernel (${k.end}${finals ? `; ${finals}` : ''})\n  ${k.path.join('\n  ')}\n  -- trace --\n  ${k.lines.join('\n  ')}`);
          }
          const header = `kernel (${k.end})`;
          const problems: string[] = [];

          // 1. The engine: the kernel's path is one of its outcomes' paths.
          let matchedOutcome: Outcome | undefined;
          {
            const paths = engineOutcomes.map((o) => outcomePath(o));
            // Same path; among those (statistic branches to different endpoints share a path on
            // ESTABLISHED packets), the one whose final addresses are the kernel's.
            const samePath = paths.map((p, i) => (p.join('\n') === k.path.join('\n') ? i : -1)).filter((i) => i >= 0);
            const idx = samePath.find((i) => compareAddresses(k, engineOutcomes[i]!, ls) === null) ?? samePath[0] ?? -1;
            if (idx < 0) {
              problems.push(
                `${where}: the kernel's path is none of the engine's ${paths.length} outcome(s)\n` +
                  paths.map((p, i) => sideBySide(header, k.path, `engine outcome ${i + 1}/${paths.length}`, p)).join('\n'),
              );
            } else {
              matchedOutcome = engineOutcomes[idx];
              const addrProblem = compareAddresses(k, matchedOutcome!, ls);
              if (addrProblem) problems.push(`${where}: same path, but ${addrProblem}`);
              const emb = receivedProblem(k, matchedOutcome!);
              if (emb) problems.push(`${where}: same path, but ${emb}`);
              const d = matchedOutcome!.disposition;
              if (!endMatches(k.end, d.kind, d.iface, d.by !== undefined)) {
                problems.push(`${where}: same path, but the kernel's packet ended "${k.end}" and the engine says ${matchedOutcome!.disposition.text}`);
              }
            }
          }
          // 2. The scenario's expected paths, when every expected outcome gives one.
          if (exp.length > 0 && exp.every((e) => e.path)) {
            // Among the expected outcomes with the kernel's path, one whose end and addresses agree.
            const samePath = exp.map((e, i) => (e.path!.join('\n') === k.path.join('\n') ? i : -1)).filter((i) => i >= 0);
            if (samePath.length === 0) {
              problems.push(
                `${where}: the kernel's path is none of the scenario's ${exp.length} expected path(s)\n` +
                  exp.map((e, i) => sideBySide(header, k.path, `expected ${i + 1}/${exp.length}`, e.path!)).join('\n'),
              );
            } else {
              const issues = samePath.map((i) => expectedIssues(k, exp[i]!));
              if (issues.every((list) => list.length > 0)) problems.push(...issues[0]!.map((m) => `${where}: ${m}`));
            }
          }
          if (problems.length) {
            throw new Error(`${problems.join('\n\n')}\n\nkernel trace:\n  ${k.lines.join('\n  ')}`);
          }
          expect(problems).toEqual([]);
          coverage.record(sc.name, sp.name, sp.packet, sc.family, ls.parse.ruleset, k.path);
        }, 90_000);
      });
    });
  });
});
