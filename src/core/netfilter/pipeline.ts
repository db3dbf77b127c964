/**
 * Netfilter order as data, written once. The kernel's IPv4/IPv6 hooks:
 *
 *                  ┌──────────┐   routing    ┌─────────┐    ┌─────────────┐
 *   in ──▶ PREROUTING ────────▶ decision ──▶ FORWARD ───────▶ POSTROUTING ──▶ out
 *         raw  (ct)  mangle nat      │       mangle filter     mangle nat
 *                                    │       security              ▲
 *                                    ▼                             │
 *                                  INPUT                        (routing)
 *                          mangle filter security nat              │
 *                                    │                             │
 *                                    ▼                             │
 *                              local process ──▶ OUTPUT ───────────┘
 *                                         raw (ct) mangle nat filter security
 *
 * Priorities (include/uapi/linux/netfilter_ipv4.h, enum nf_ip_hook_priorities):
 *   RAW -300, CONNTRACK -200, MANGLE -150, NAT_DST -100, FILTER 0, SECURITY 50, NAT_SRC 100,
 *   CONNTRACK_CONFIRM INT_MAX. The nat table registers NAT_DST at PREROUTING/OUTPUT and NAT_SRC at
 *   INPUT/POSTROUTING; nat chains are consulted only for the first packet of a flow (nf_nat_inet_fn
 *   runs the table only while `!nf_nat_initialized(ct, maniptype)`).
 *
 * Pure: no IO.
 */
import type { HookName, TableName } from '../model.js';

/** One stage of a hook: a table's builtin chain, or the conntrack lookup. */
export type Stage =
  | { kind: 'table'; table: TableName; priority: number }
  | { kind: 'conntrack'; priority: number };

const RAW: Stage = { kind: 'table', table: 'raw', priority: -300 };
const CT: Stage = { kind: 'conntrack', priority: -200 };
const MANGLE: Stage = { kind: 'table', table: 'mangle', priority: -150 };
const NAT_DST: Stage = { kind: 'table', table: 'nat', priority: -100 };
const FILTER: Stage = { kind: 'table', table: 'filter', priority: 0 };
const SECURITY: Stage = { kind: 'table', table: 'security', priority: 50 };
const NAT_SRC: Stage = { kind: 'table', table: 'nat', priority: 100 };

/** Stages of each hook in kernel priority order. */
export const HOOK_STAGES: Readonly<Record<HookName, readonly Stage[]>> = {
  PREROUTING: [RAW, CT, MANGLE, NAT_DST],
  INPUT: [MANGLE, FILTER, SECURITY, NAT_SRC],
  FORWARD: [MANGLE, FILTER, SECURITY],
  OUTPUT: [RAW, CT, MANGLE, NAT_DST, FILTER, SECURITY],
  POSTROUTING: [MANGLE, NAT_SRC],
};

/** Which NAT manipulation a hook's nat chain sets up (NF_NAT_MANIP_DST / _SRC). */
export const NAT_MANIP: Readonly<Record<HookName, 'dst' | 'src' | null>> = {
  PREROUTING: 'dst',
  OUTPUT: 'dst',
  INPUT: 'src',
  POSTROUTING: 'src',
  FORWARD: null,
};
