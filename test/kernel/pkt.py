#!/usr/bin/env python3
"""Packet helper of the iptscope kernel harness (test/kernel). Python standard library only.

Runs inside a network namespace (`ip netns exec NS python3 pkt.py ...`) created by the harness.

  send    one crafted packet through a raw socket with the IP header included, so every field
          the engine's PacketSpec names is exact: addresses, ports, TCP flags, ICMP type/code,
          TTL / hop limit, total length, skb mark (SO_MARK, local packets only); with --inner-*
          an ICMP / ICMPv6 error quoting a packet of a flow (PacketSpec.related).
  sock    one packet from an ordinary socket opened after setgid/setuid (for -m owner), TCP SYN
          (non-blocking connect) or a UDP datagram.
  server  a TCP or UDP listener driven by line commands on stdin (prints `ready`, `accepted`,
          `received`; `send` writes one byte to the peer).
  client  a TCP connection / UDP socket with a fixed source address and port, driven by line
          commands on stdin (prints `connected`, `sent`, `received`).
  errcap  prints each ICMP / ICMPv6 error of a type the namespace receives, with its quoted
          packet's addresses and ports (the receiving end of a RELATED error).

Every process ends by itself when its stdin closes or after --life seconds, so nothing can
outlive the harness even if the harness is killed.
"""
import argparse
import errno
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import time

IPPROTO = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132}
TCP_FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ECE": 0x40, "CWR": 0x80}
SO_MARK = 36


def out(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo_header(fam, src, dst, proto, length):
    if fam == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def l4_header(a, fam, src, dst, proto, payload_len):
    """Transport header + payload with a correct checksum."""
    payload = b"\0" * payload_len
    if proto == 6:
        flags = 0
        for f in (a.flags or "SYN").split(","):
            if f:
                flags |= TCP_FLAG_BITS[f.upper()]
        ack = 1 if flags & 0x10 else 0
        hdr = struct.pack("!HHIIBBHHH", a.sport, a.dport, 1000, ack, 5 << 4, flags, 64240, 0, 0)
        csum = checksum(pseudo_header(fam, src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
        return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload
    if proto == 17:
        length = 8 + len(payload)
        hdr = struct.pack("!HHHH", a.sport, a.dport, length, 0)
        csum = checksum(pseudo_header(fam, src, dst, 17, length) + hdr + payload) or 0xFFFF
        return hdr[:6] + struct.pack("!H", csum) + payload
    if proto in (1, 58):
        itype = a.icmp_type if a.icmp_type is not None else (8 if proto == 1 else 128)
        if getattr(a, "inner_src", None):
            # An ICMP error quoting an offending packet: 4 bytes after the checksum (unused, or
            # the next-hop MTU of a fragmentation needed / packet too big), then that packet.
            rest = 0
            if proto == 1 and itype == 3 and a.icmp_code == 4:
                rest = 1400
            elif proto == 58 and itype == 2:
                rest = 1280
            hdr = struct.pack("!BBHI", itype, a.icmp_code or 0, 0, rest)
            body = hdr + inner_packet(a, fam)
        else:
            hdr = struct.pack("!BBHHH", itype, a.icmp_code or 0, 0, a.icmp_id, 1)
            body = hdr + payload
        if proto == 1:
            csum = checksum(body)
        else:
            csum = checksum(pseudo_header(fam, src, dst, 58, len(body)) + body)
        return body[:2] + struct.pack("!H", csum) + body[4:]
    if proto == 132:
        # SCTP common header + an INIT chunk is not needed by any rule here: ports only.
        hdr = struct.pack("!HHII", a.sport, a.dport, 0, 0)
        return hdr + payload
    return payload


def inner_packet(a, fam):
    """The offending packet an ICMP error quotes (--inner-*): IP header + transport header +
    padding, --inner-length bytes in all, checksums correct."""
    isrc = ipaddress.ip_address(a.inner_src)
    idst = ipaddress.ip_address(a.inner_dst)
    iproto = IPPROTO.get(a.inner_proto, None)
    if iproto is None:
        iproto = int(a.inner_proto)
    ihl = 20 if fam == 4 else 40
    total = a.inner_length or (ihl + l4_min(iproto))
    inner_args = argparse.Namespace(sport=a.inner_sport, dport=a.inner_dport, flags="ACK", icmp_type=None, icmp_code=0, icmp_id=a.inner_sport)
    l4 = l4_header(inner_args, fam, isrc, idst, iproto, max(0, total - ihl - l4_min(iproto)))
    if fam == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | 5, 0, ihl + len(l4), 4343, 0x4000, 63, iproto, 0, isrc.packed, idst.packed)
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    else:
        hdr = struct.pack("!IHBB16s16s", 6 << 28, len(l4), iproto, 63, isrc.packed, idst.packed)
    return hdr + l4


def l4_min(proto):
    return {6: 20, 17: 8, 1: 8, 58: 8, 132: 12}.get(proto, 0)


def cmd_send(a):
    src = ipaddress.ip_address(a.src)
    dst = ipaddress.ip_address(a.dst)
    fam = src.version
    proto = IPPROTO.get(a.proto, None)
    if proto is None:
        proto = int(a.proto)
    iphdr_len = 20 if fam == 4 else 40
    total = a.length if a.length else 60
    payload_len = max(0, total - iphdr_len - l4_min(proto))
    l4 = l4_header(a, fam, src, dst, proto, payload_len)
    if fam == 4:
        tot = iphdr_len + len(l4)
        ver_ihl = (4 << 4) | 5
        frag = 0x4000  # DF
        hdr = struct.pack("!BBHHHBBH4s4s", ver_ihl, a.tos, tot, 4242, frag, a.ttl, proto, 0, src.packed, dst.packed)
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        pkt = hdr + l4
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        addr = (str(dst), 0)
    else:
        hdr = struct.pack("!IHBB16s16s", (6 << 28) | (a.tos << 20), len(l4), proto, a.ttl, src.packed, dst.packed)
        pkt = hdr + l4
        # AF_INET6 + IPPROTO_RAW implies IPV6_HDRINCL on Linux.
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        addr = (str(dst), 0)
    if a.l2_dst:
        # Straight onto the link as an Ethernet frame (the sender's own routing would keep a
        # loopback destination to itself): AF_PACKET on --dev to the node's MAC.
        s.close()
        dev = a.dev or "eth0"
        src_mac = open("/sys/class/net/%s/address" % dev).read().strip()
        eth = bytes.fromhex(a.l2_dst.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + struct.pack("!H", 0x0800 if fam == 4 else 0x86DD)
        ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        ps.bind((dev, 0))
        ps.send(eth + pkt)
        ps.close()
        out("sent")
        return
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if a.mark:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, a.mark)
    if a.dev:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
    try:
        s.sendto(pkt, addr)
        out("sent")
    except OSError as e:
        # A local packet dropped on output after netfilter saw (and traced) it: EPERM when a rule
        # dropped it, EINVAL when the re-route after a NAT failed (e.g. a 127.0.0.1 source
        # leaving the host without route_localnet).
        if e.errno not in (errno.EPERM, errno.EINVAL):
            raise
        out("sent (%s: dropped on output)" % errno.errorcode[e.errno])
    s.close()


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def cmd_sock(a):
    """One packet from an ordinary socket owned by --uid/--gid (created after dropping root)."""
    fam = family_of(a.dst)
    if a.gid is not None:
        os.setgroups([a.gid])
        os.setgid(a.gid)
    if a.uid is not None:
        os.setuid(a.uid)
    if a.proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.ttl:
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a.ttl)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, a.ttl)
    s.bind((a.src, a.sport))
    if a.proto == "tcp":
        s.setblocking(False)
        try:
            s.connect((a.dst, a.dport))
        except (BlockingIOError, OSError):
            pass
        out("sent")
        time.sleep(0.2)
    else:
        payload_len = max(0, (a.length or 60) - (20 if fam == socket.AF_INET else 40) - 8)
        try:
            s.sendto(b"\0" * payload_len, (a.dst, a.dport))
            out("sent")
        except PermissionError:
            out("sent (EPERM: dropped on output)")
    s.close()


def stdin_lines(deadline):
    """Yield stdin lines until EOF or the deadline."""
    buf = b""
    fd = sys.stdin.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            yield None
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode().strip()
    return


def cmd_server(a):
    fam = socket.AF_INET6 if a.family == 6 else socket.AF_INET
    bind = a.bind or ("::" if fam == socket.AF_INET6 else "0.0.0.0")
    deadline = time.monotonic() + a.life
    if a.proto == "tcp":
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if a.transparent:
            ls.setsockopt(socket.SOL_IP if fam == socket.AF_INET else socket.SOL_IPV6, 19 if fam == socket.AF_INET else 75, 1)  # IP_TRANSPARENT / IPV6_TRANSPARENT
        if fam == socket.AF_INET6:
            ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        ls.bind((bind, a.port))
        ls.listen(8)
        ls.setblocking(False)
        out("ready")
        conn = None
        for line in stdin_lines(deadline):
            if conn is None:
                try:
                    conn, _ = ls.accept()
                    out("accepted")
                except BlockingIOError:
                    pass
            if line == "send" and conn is not None:
                conn.send(b"x")
                out("sent")
            elif line == "send":
                out("error: no connection")
            if conn is not None:
                try:
                    conn.setblocking(False)
                    if conn.recv(4096):
                        out("received")
                except (BlockingIOError, OSError):
                    pass
        return
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.transparent:
        s.setsockopt(socket.SOL_IP if fam == socket.AF_INET else socket.SOL_IPV6, 19 if fam == socket.AF_INET else 75, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((bind, a.port))
    s.setblocking(False)
    out("ready")
    peer = None
    for line in stdin_lines(deadline):
        try:
            _, peer = s.recvfrom(4096)
            out("received")
        except BlockingIOError:
            pass
        if line == "send":
            if peer is None:
                out("error: nothing received yet")
            else:
                s.sendto(b"x", peer)
                out("sent")


def cmd_client(a):
    fam = family_of(a.dst)
    deadline = time.monotonic() + a.life
    if a.proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.src, a.sport))
        s.settimeout(a.connect_timeout)
        try:
            s.connect((a.dst, a.dport))
        except OSError as e:
            out("error: connect %s" % e)
            return
        s.setblocking(False)
        out("connected")
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.src, a.sport))
        s.connect((a.dst, a.dport))
        s.setblocking(False)
        out("ready")
    for line in stdin_lines(deadline):
        if line == "send":
            s.send(b"y")
            out("sent")
        try:
            if s.recv(4096):
                out("received")
        except (BlockingIOError, OSError):
            pass


def cmd_errcap(a):
    """Print every ICMP / ICMPv6 error of --type this namespace receives: outer source, type, code and
    the quoted packet's addresses and ports (`error SRC TYPE CODE ISRC IDST ISPORT IDPORT`)."""
    if a.family == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setblocking(False)
    out("ready")
    for _ in stdin_lines(time.monotonic() + a.life):
        while True:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            if a.family == 4:
                icmp = data[(data[0] & 0x0F) * 4:]
            else:
                icmp = data  # an ICMPv6 raw socket gets the message without the IPv6 header
            if len(icmp) < 8 or icmp[0] != a.type:
                continue
            inner = icmp[8:]
            if a.family == 4:
                ihl = (inner[0] & 0x0F) * 4
                isrc, idst = socket.inet_ntop(socket.AF_INET, inner[12:16]), socket.inet_ntop(socket.AF_INET, inner[16:20])
            else:
                ihl = 40
                isrc, idst = socket.inet_ntop(socket.AF_INET6, inner[8:24]), socket.inet_ntop(socket.AF_INET6, inner[24:40])
            if len(inner) < ihl + 4:
                continue
            sport, dport = struct.unpack("!HH", inner[ihl:ihl + 4])
            out("error %s %d %d %s %s %d %d" % (addr[0], icmp[0], icmp[1], isrc, idst, sport, dport))


def cmd_join(a):
    """Hold multicast group memberships (GROUP@IFACE …) until stdin closes."""
    socks = []
    for spec in a.groups:
        group, iface = spec.split("@")
        idx = socket.if_nametoindex(iface)
        if ":" in group:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            mreqn = socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        socks.append(s)
    out("ready")
    for _ in stdin_lines(time.monotonic() + a.life):
        pass


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("send")
    sp.add_argument("--proto", required=True)
    sp.add_argument("--src", required=True)
    sp.add_argument("--dst", required=True)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--dport", type=int, default=0)
    sp.add_argument("--flags", default=None)
    sp.add_argument("--icmp-type", type=int, default=None)
    sp.add_argument("--icmp-code", type=int, default=0)
    sp.add_argument("--icmp-id", type=int, default=0)
    sp.add_argument("--ttl", type=int, default=64)
    sp.add_argument("--tos", type=int, default=0)
    sp.add_argument("--length", type=int, default=0)
    sp.add_argument("--mark", type=int, default=0)
    sp.add_argument("--dev", default=None)
    sp.add_argument("--l2-dst", default=None)
    # An ICMP error's quoted packet (the harness's RELATED packets).
    sp.add_argument("--inner-proto", default=None)
    sp.add_argument("--inner-src", default=None)
    sp.add_argument("--inner-dst", default=None)
    sp.add_argument("--inner-sport", type=int, default=0)
    sp.add_argument("--inner-dport", type=int, default=0)
    sp.add_argument("--inner-length", type=int, default=0)
    so = sub.add_parser("sock")
    so.add_argument("--proto", required=True)
    so.add_argument("--src", required=True)
    so.add_argument("--dst", required=True)
    so.add_argument("--sport", type=int, required=True)
    so.add_argument("--dport", type=int, required=True)
    so.add_argument("--uid", type=int, default=None)
    so.add_argument("--gid", type=int, default=None)
    so.add_argument("--ttl", type=int, default=0)
    so.add_argument("--length", type=int, default=0)
    ss = sub.add_parser("server")
    ss.add_argument("--proto", required=True)
    ss.add_argument("--family", type=int, default=4)
    ss.add_argument("--port", type=int, required=True)
    ss.add_argument("--life", type=float, default=30)
    ss.add_argument("--bind", default=None)
    ss.add_argument("--transparent", action="store_true")
    sc = sub.add_parser("client")
    sc.add_argument("--proto", required=True)
    sc.add_argument("--src", required=True)
    sc.add_argument("--sport", type=int, required=True)
    sc.add_argument("--dst", required=True)
    sc.add_argument("--dport", type=int, required=True)
    sc.add_argument("--life", type=float, default=30)
    sc.add_argument("--connect-timeout", type=float, default=3)
    se = sub.add_parser("errcap")
    se.add_argument("--family", type=int, default=4)
    se.add_argument("--type", type=int, required=True)
    se.add_argument("--life", type=float, default=30)
    sj = sub.add_parser("join")
    sj.add_argument("groups", nargs="+")
    sj.add_argument("--life", type=float, default=900)
    a = p.parse_args()
    {"send": cmd_send, "sock": cmd_sock, "server": cmd_server, "client": cmd_client, "join": cmd_join, "errcap": cmd_errcap}[a.cmd](a)


if __name__ == "__main__":
    main()
