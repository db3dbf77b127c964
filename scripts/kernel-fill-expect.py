#!/usr/bin/env python3
"""Fill a scenario's expected outcomes from what the kernel did (a kernel-suite record).

    sudo IPTSCOPE_KERNEL_RECORD=/tmp/rec.jsonl npx vitest run test/kernel -t SCENARIO
    scripts/kernel-fill-expect.py /tmp/rec.jsonl SCENARIO

For every packet of scenarios/SCENARIO with a recorded kernel path (and a single expected outcome),
writes `path`, `verdict`, `disposition` and `iface` from the kernel (keeping `dst`, `src`, `mark`
already there). REJECT vs DROP is read from the rule that ended the path. Review the result by
hand: the kernel is the oracle, but the scenario's descriptions must say why.
"""
import json, os, re, sys
rec_file, scen = sys.argv[1], sys.argv[2]
recs = {}
for l in open(rec_file):
    r = json.loads(l)
    if r["scenario"] == scen: recs[r["packet"]] = r
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", scen)
sc = json.load(open(f"{d}/scenario.json"))
rules = open(f"{d}/{sc['rules']}").read().split("\n")
table = None; chains = {}
for line in rules:
    if line.startswith("*"): table = line[1:]
    m = re.match(r"-A (\S+) (.*)", line)
    if m: chains.setdefault((table, m.group(1)), []).append(line)
for p in sc["packets"]:
    r = recs.get(p["name"])
    if not r or p.get("kernelSkip"): continue
    if isinstance(p.get("expect"), dict) and "outcomes" in p["expect"]:
        continue
    e = {}
    end = r["end"]; path = r["path"]
    if end == "delivered": e.update(verdict="ACCEPT", disposition="delivered")
    elif end.startswith("left "):
        local = bool(path) and path[0].split(":")[1] == "OUTPUT"
        e.update(verdict="ACCEPT", disposition="sent" if local else "forwarded", iface=end[5:])
    elif end == "drop":
        last = path[-1].split(":")
        rej = False
        if last[2] != "policy":
            rule = chains[(last[0], last[1])][int(last[2]) - 1]
            rej = "-j REJECT" in rule
        e.update(verdict="REJECT" if rej else "DROP", disposition="rejected" if rej else "dropped")
    elif end == "no terminal event":
        # The path stops without a rule dropping it: routing refused the packet.
        e.update(verdict="DROP")
    old = p.get("expect") or {}
    for k in ("dst", "src", "mark"):
        if k in old: e[k] = old[k]
    e["path"] = path
    p["expect"] = e
json.dump(sc, open(f"{d}/scenario.json", "w"), indent=2)
open(f"{d}/scenario.json", "a").write("\n")
print("filled", scen)
