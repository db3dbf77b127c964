import { describe, expect, it } from 'vitest';
import { parseCommand, splitHostPort } from '../../src/app/command.js';
import type { Engine } from '../../src/app/controller.js';
import { createController } from '../../src/app/controller.js';
import { grouped, hex, humanCount, humanRate } from '../../src/app/human.js';
import { emptyPacketForm, formToSpec, packetForRule } from '../../src/app/packet-form.js';
import { selectedRule } from '../../src/app/selectors.js';
import type { HostContext, PacketSpec } from '../../src/core/netfilter/types.js';
import { generateKubeProxyDump } from '../../src/gen/kubeproxy.js';
import { clusterIpTrace, loadedStore, payload, reloadPayload } from './helpers.js';

/** An engine stand-in that records the packets it is asked to trace. */
function recordingEngine(): Engine & { packets: PacketSpec[] } {
  const packets: PacketSpec[] = [];
  return {
    packets,
    trace(_rs, _ctx, packet) {
      packets.push(packet);
      return { ...clusterIpTrace(), packet };
    },
    resolveContext: (partial?: Partial<HostContext>) => ({ context: { interfaces: [], routes: [], sysctl: { ipForward: true, ipv6Forward: false, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true }, ...partial }, defaults: [] }),
    validatePacket: (spec) => (spec.dst === '10.0.0.0' ? ['dst is a network address'] : []),
  };
}

function setup() {
  const store = loadedStore();
  const engine = recordingEngine();
  const c = createController(store, engine);
  const type = (text: string) => {
    for (const ch of text) c.inputKey(ch, ch);
    c.inputKey(undefined, 'enter');
  };
  return { store, engine, c, type };
}

describe('command line', () => {
  it.each([
    ['q', { kind: 'quit' }],
    ['chain KUBE-SERVICES', { kind: 'chain', chain: 'KUBE-SERVICES' }],
    ['chain filter INPUT', { kind: 'chain', table: 'filter', chain: 'INPUT' }],
    ['table nat', { kind: 'table', table: 'nat' }],
    ['sort rate', { kind: 'sort', byRate: true }],
    ['diag', { kind: 'overlay', overlay: 'diagnostics' }],
    ['reset', { kind: 'reset' }],
  ])(':%s', (line, cmd) => expect(parseCommand(line, emptyPacketForm())).toEqual(cmd));
  it.each([
    ['tcp 10.244.1.10:40000 -> 10.96.0.100:80 iif cni0', { proto: 'tcp', src: '10.244.1.10', sport: '40000', dst: '10.96.0.100', dport: '80', iif: 'cni0' }],
    ['udp 10.0.0.1 -> 10.0.0.2:53 local mark 0x4000 ct established', { proto: 'udp', src: '10.0.0.1', sport: '', dst: '10.0.0.2', dport: '53', iif: 'local', mark: '0x4000', ct: 'ESTABLISHED' }],
    ['tcp [2001:db8::1]:1234 -> 2001:db8::2 in eth1', { src: '2001:db8::1', sport: '1234', dst: '2001:db8::2', dport: '', iif: 'eth1' }],
  ])(':trace %s', (args, want) => {
    const cmd = parseCommand(`trace ${args}`, emptyPacketForm());
    expect(typeof cmd).toBe('object');
    expect((cmd as { form: object }).form).toMatchObject(want);
  });
  it.each([
    ['trace tcp 10.0.0.1 10.0.0.2', /usage: :trace/],
    ['trace tcp nonsense -> 10.0.0.2', /"nonsense" is not ADDRESS\[:PORT\]/],
    ['trace tcp 10.0.0.1 -> 10.0.0.2 color red', /unknown word "color"/],
    ['trace tcp 10.0.0.1 -> 10.0.0.2 iif', /"iif" needs a value/],
    ['frobnicate', /unknown command ":frobnicate"/],
    ['chain', /usage: :chain/],
  ])(':%s is an error naming the problem', (line, msg) => expect(parseCommand(line, emptyPacketForm())).toMatch(msg));
  it('splits host and port', () => {
    expect(splitHostPort('[::1]:80')).toEqual({ addr: '::1', port: '80' });
    expect(splitHostPort('fe80::1')).toEqual({ addr: 'fe80::1' });
  });
});

describe('controller', () => {
  it(':trace fills the form, traces with the engine, focuses the trace', () => {
    const { store, engine, c, type } = setup();
    c.exec({ id: 'command' });
    type('trace tcp 10.244.1.10:40000 -> 10.96.0.100:80 iif cni0');
    expect(engine.packets).toEqual([{ proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'cni0' }]);
    const s = store.getState();
    expect(s.trace).not.toBeNull();
    expect(s.packet.dst).toBe('10.96.0.100');
    expect(s.flash?.text).toMatch(/2 possible outcomes/);
  });
  it(':chain goes there and pushes a breadcrumb; :q quits', () => {
    const { store, c, type } = setup();
    c.exec({ id: 'command' });
    type('chain KUBE-SEP-2');
    expect(store.getState().view?.chain).toBe('KUBE-SEP-2');
    expect(store.getState().breadcrumb.map((b) => b.chain)).toEqual(['PREROUTING']);
    c.exec({ id: 'command' });
    type('q');
    expect(store.getState().quit).toBe(true);
  });
  it('invalid packets are reported without calling the engine', () => {
    const { store, engine, c } = setup();
    c.runTrace({ ...emptyPacketForm(), src: 'not-an-ip', dst: '10.0.0.1', dport: '99999' });
    expect(engine.packets).toEqual([]);
    expect(store.getState().traceError).toMatch(/src "not-an-ip" is not an IP address; dport 99999 is out of range/);
    c.runTrace({ ...emptyPacketForm(), src: '10.0.0.1', dst: '10.0.0.0' });
    expect(store.getState().traceError).toMatch(/dst is a network address/);
  });
  it('n steps the trace, but goes to the next search hit while a search is active', () => {
    const { store, c, type } = setup();
    c.runTrace({ ...emptyPacketForm(), src: '10.244.1.10', dst: '10.96.0.100', dport: '80' });
    c.exec({ id: 'next', delta: 1 });
    expect(store.getState().view?.chain).toBe('KUBE-SERVICES');
    c.exec({ id: 'search' });
    type('MASQUERADE');
    expect(store.getState().view?.chain).toBe('KUBE-POSTROUTING');
    c.exec({ id: 'next', delta: 1 });
    expect(store.getState().view?.chain).toBe('KUBE-POSTROUTING');
    c.exec({ id: 'back' });
    c.exec({ id: 'next', delta: 1 });
    expect(store.getState().view?.chain).toBe('KUBE-SERVICES');
  });
  it('presets trace the scenario packet picked with Enter', () => {
    const { store, engine, c } = setup();
    c.exec({ id: 'presets' });
    c.exec({ id: 'move', delta: 1 });
    c.exec({ id: 'enter' });
    expect(engine.packets[0]).toMatchObject({ src: '10.0.2.15', local: true });
    expect(store.getState().overlay).toBeNull();
    expect(store.getState().packet.iif).toBe('local');
  });
  it('S traces the whole scenario into the simulated counters', () => {
    const { store, engine, c } = setup();
    c.exec({ id: 'scenario' });
    expect(engine.packets.length).toBe(2);
    expect(store.getState().simPackets).toBe(2);
  });
  it('m traces a packet that matches the selected rule', () => {
    const { store, engine, c } = setup();
    store.dispatch({ type: 'showChain', chain: 'INPUT', table: 'filter' });
    c.exec({ id: 'matchRule' });
    // What the rule does not constrain (the destination) stays as it was in the form.
    expect(engine.packets[0]).toEqual({ proto: 'udp', src: '192.0.2.1', sport: 40000, dst: '10.96.0.100', dport: 53, iif: 'eth0' });
  });
  it('editing a packet field through the form', () => {
    const { store, c, type } = setup();
    c.exec({ id: 'focus', pane: 'packet' });
    c.exec({ id: 'move', delta: 3 });
    c.exec({ id: 'enter' });
    expect(store.getState().input).toMatchObject({ kind: 'field', field: 'dst', text: '10.96.0.100' });
    c.inputKey(undefined, 'C-u');
    type('10.1.2.3');
    expect(store.getState().packet.dst).toBe('10.1.2.3');
    // control characters typed or pasted never reach the state
    c.exec({ id: 'enter' });
    c.inputKey('\u001b[31m', undefined);
    c.inputKey('x', 'x');
    c.inputKey(undefined, 'enter');
    expect(store.getState().packet.dst).toBe('10.1.2.3x');
  });
  it('a reload re-traces the kept packet without counting it twice, on the same step', () => {
    const { store, engine, c } = setup();
    c.runTrace({ ...emptyPacketForm(), src: '10.244.1.10', dst: '10.96.0.100', dport: '80' });
    for (let i = 0; i < 3; i++) c.exec({ id: 'step', delta: 1 });
    const step = store.getState().trace!.row;
    c.loaded(payload(undefined, 'test.rules', 5_000_000));
    expect(engine.packets.length).toBe(2);
    const s = store.getState();
    expect(s.trace!.row).toBe(step);
    expect(s.simPackets).toBe(1);
  });
  it('a reload leaves the view and the focus where the user went after stepping', () => {
    const { store, c } = setup();
    c.runTrace({ ...emptyPacketForm(), src: '10.244.1.10', dst: '10.96.0.100', dport: '80' });
    for (let i = 0; i < 3; i++) c.exec({ id: 'step', delta: 1 });
    const step = store.getState().trace!.row;
    const stepView = store.getState().view;
    store.dispatch({ type: 'showChain', table: 'filter', chain: 'KUBE-FORWARD' });
    store.dispatch({ type: 'focus', pane: 'rules' });
    expect(store.getState().view).not.toEqual(stepView);
    c.loaded(reloadPayload(store, loadedStore().getState().sourceText.replace('10.96.0.9/32', '10.96.0.8/32'), 'test.rules', 5_000_000));
    const s = store.getState();
    expect(s.view).toEqual({ table: 'filter', chain: 'KUBE-FORWARD' });
    expect(s.focus).toBe('rules');
    expect(s.trace!.row).toBe(step);
    expect(s.changes.map((x) => `${x.kind} ${x.chain} ${x.position}`)).toEqual(['changed KUBE-SERVICES 1']);
    // stepping again follows the packet as before
    c.exec({ id: 'step', delta: 1 });
    expect(store.getState().view?.table).toBe('nat');
  });
  it('on big rulesets the diff view says it is comparing, paints, then compares (once)', () => {
    const big = generateKubeProxyDump({ services: 400, endpoints: 10, seed: 5 });
    const store = loadedStore(big);
    const deferred: (() => void)[] = [];
    let diffs = 0;
    const c = createController(store, null, { diff: () => (diffs++, { lines: [{ text: '+ one rule' }] }), defer: (w) => void deferred.push(w) });
    const at = big.indexOf('\n[0:0] -A KUBE-SERVICES ') + 1;
    const edited = big.slice(0, at) + '[0:0] -A KUBE-SERVICES -d 10.255.0.1/32 -j ACCEPT\n' + big.slice(at);
    c.loaded(reloadPayload(store, edited, 'test.rules', 5_000_000));
    c.exec({ id: 'diff' });
    expect(store.getState().flash?.text).toMatch(/^comparing the two rulesets \([\d,]+ rules/);
    expect(store.getState().mode).toBe('explore');
    expect(diffs).toBe(0);
    deferred.shift()!();
    expect(diffs).toBe(1);
    expect(store.getState().mode).toBe('diff');
    expect(store.getState().diff?.lines?.[0].text).toBe('+ one rule');
    expect(store.getState().flash).toBeNull();
    // A reload between the key and the comparison: nothing stale is shown.
    c.exec({ id: 'back' });
    c.exec({ id: 'diff' });
    c.loaded(reloadPayload(store, edited.replace('10.255.0.1/32', '10.255.0.2/32'), 'test.rules', 6_000_000));
    deferred.shift()!();
    expect(store.getState().mode).toBe('explore');
    expect(store.getState().flash?.text).toMatch(/rules changed while comparing/);
  });
  it('diff needs an earlier version', () => {
    const { store, c } = setup();
    c.exec({ id: 'diff' });
    expect(store.getState().flash?.text).toMatch(/no earlier version/);
    c.loaded(reloadPayload(store, loadedStore().getState().sourceText.replace('10.96.0.9/32', '10.96.0.8/32'), 'test.rules', 5_000_000));
    c.exec({ id: 'diff' });
    expect(store.getState().mode).toBe('diff');
    c.exec({ id: 'back' });
    expect(store.getState().mode).toBe('explore');
  });
  it('the diff view shows the DIFF area\'s lines; Enter on a packet shows both traces, Enter again steps the new one', () => {
    const store = loadedStore();
    const r = clusterIpTrace();
    const c = createController(store, recordingEngine(), {
      diff: () => ({ lines: [{ text: '--- a' }, { text: '! pod → svc' , probe: 0 }, { text: '-   DROP' }], probes: [{ label: 'pod → svc', oldTrace: r, newTrace: r }] }),
    });
    c.loaded(reloadPayload(store, loadedStore().getState().sourceText.replace('10.96.0.9/32', '10.96.0.8/32'), 'test.rules', 5_000_000));
    c.exec({ id: 'diff' });
    expect(store.getState().diff?.lines?.length).toBe(3);
    c.exec({ id: 'enter' });
    expect(store.getState().mode).toBe('diff');
    expect(store.getState().flash?.text).toMatch(/Enter on a "!" line/);
    c.exec({ id: 'move', delta: 1 });
    c.exec({ id: 'enter' });
    expect(store.getState().overlay?.kind).toBe('probe');
    expect(store.getState().diff?.probe).toBe(0);
    c.exec({ id: 'enter' });
    const s = store.getState();
    expect(s.overlay).toBeNull();
    expect(s.mode).toBe('explore');
    expect(s.trace?.result).toBe(r);
    expect(s.simPackets).toBe(0);
    expect(s.flash?.text).toMatch(/pod → svc — before: ACCEPT forwarded out cni0/);
  });
  it('without the engine, tracing says so', () => {
    const store = loadedStore();
    const c = createController(store, null);
    c.runTrace({ ...emptyPacketForm(), src: '10.0.0.1', dst: '10.0.0.2' });
    expect(store.getState().traceError).toMatch(/engine is not available/);
  });
});

describe('packet form', () => {
  it.each([
    [{ src: '10.0.0.1', dst: '10.0.0.2', iif: 'local', ct: 'established' }, { proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', local: true, ctState: 'ESTABLISHED' }],
    [{ src: '10.0.0.1', dst: '10.0.0.2', mark: '16384', sport: '1', dport: '2' }, { proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, mark: 0x4000, iif: 'eth0' }],
  ])('%j → %j', (over, spec) => expect(formToSpec({ ...emptyPacketForm(), ...over })).toEqual({ spec }));
  it.each([
    [{ src: '', dst: '10.0.0.2' }, /src is empty/],
    [{ src: '10.0.0.1', dst: '10.0.0.2', mark: '0xZZ' }, /mark "0xZZ" is not a 32-bit number/],
    [{ src: '10.0.0.1', dst: '10.0.0.2', ct: 'BOGUS' }, /ct "BOGUS" is not one of/],
    [{ src: '10.0.0.1', dst: '10.0.0.2', sport: '-1' }, /sport "-1" is not a port number/],
  ])('%j is refused', (over, msg) => {
    const r = formToSpec({ ...emptyPacketForm(), ...over });
    expect('errors' in r && r.errors.join('; ')).toMatch(msg);
  });
  it('a packet for a negated source, a mark match and an OUTPUT-only chain', () => {
    const store = loadedStore('*nat\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n-A OUTPUT -j X\n-A X ! -s 10.0.0.0/8 -d 10.96.0.0/12 -p udp -m udp --dport 53:60 -m mark --mark 0x10/0xf0 -j ACCEPT\nCOMMIT\n');
    store.dispatch({ type: 'showChain', chain: 'X' });
    const rule = selectedRule(store.getState())!;
    const f = packetForRule(rule, emptyPacketForm(), 'OUTPUT');
    expect(f).toMatchObject({ proto: 'udp', src: '11.0.0.0', dst: '10.96.0.1', dport: '53', mark: '0x10', iif: 'local' });
  });
});

describe('human units', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1234, '1.2K'],
    [520_000, '520K'],
    [999_960, '1.0M'],
    [1_200_000, '1.2M'],
    [90_000_000, '90M'],
  ])('%i → %s', (n, s) => expect(humanCount(n)).toBe(s));
  it('rates, grouping, hex', () => {
    expect(humanRate(0)).toBe('');
    expect(humanRate(2.5)).toBe('2.5/s');
    expect(humanRate(1500)).toBe('1.5K/s');
    expect(grouped(15449)).toBe('15,449');
    expect(hex(0x4000)).toBe('0x4000');
  });
});
