/**
 * Can this process ask the kernel? Root, `ip netns`, nft, iptables-restore / ip6tables-restore,
 * conntrack and python3 must all work; the answer names the first thing missing.
 */
import { run } from './exec.js';

export async function kernelAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not running as root' };
  for (const [cmd, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
    ['iptables-restore', ['--version']],
    ['ip6tables-restore', ['--version']],
    ['conntrack', ['--version']],
    ['python3', ['--version']],
  ] as const) {
    try {
      await run(cmd, [...args], { timeoutMs: 5000 });
    } catch (e) {
      return { ok: false, reason: `${cmd} is not usable (${(e as Error).message.split('\n')[0]})` };
    }
  }
  const probe = `ipsc-${process.pid}-probe`;
  try {
    await run('ip', ['netns', 'add', probe], { timeoutMs: 5000 });
  } catch (e) {
    return { ok: false, reason: `ip netns does not work here (${(e as Error).message.split('\n')[0]})` };
  }
  try {
    await run('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset'], { timeoutMs: 5000 });
  } catch (e) {
    return { ok: false, reason: `nft does not work in a namespace (${(e as Error).message.split('\n')[0]})` };
  } finally {
    await run('ip', ['netns', 'del', probe], { check: false, timeoutMs: 5000 });
  }
  return { ok: true };
}

/** Whether the ipset tool is installed (scenarios with ipsets need it to create their sets). */
export async function ipsetAvailable(): Promise<boolean> {
  try {
    await run('ipset', ['--version'], { timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}
