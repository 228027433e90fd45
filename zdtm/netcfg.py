"""The network configuration of a network namespace as a program inside can see it, for the visible-state
comparison (zdtm.state): links (kind, ifindex, admin flags, MTU, MAC address, txqueuelen, peer or lower link,
master, a few kind-specific settings), addresses (with prefix, scope, label and flags), routes of the main
table (IPv4 and IPv6), static neighbours, the per-device sysctls (of all, default and every link) and the
nftables ruleset. Read with iproute2's `ip -j`, grep and `nft` run through `nsenter --net=<the namespace's
file>`.

Left out, as a program cannot hold them still: the operational state (LOWER_UP, NO-CARRIER, operstate, the
routes' `linkdown` flag: the kernel updates them asynchronously after a link comes up), address and route
lifetimes, a tentative address's `tentative` flag (DAD in progress), nftables counters."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

TIMEOUT = 20
# ip's names of the IFF_* flags a program sets (the others follow the carrier)
ADMIN_FLAGS = {"UP", "BROADCAST", "MULTICAST", "LOOPBACK", "NOARP", "PROMISC", "ALLMULTI", "POINTOPOINT",
               "DEBUG", "DYNAMIC"}
ADDR_FLAGS_SKIP = {"tentative", "optimistic"}
ROUTE_FLAGS_SKIP = {"linkdown"}
BRIDGE_KEYS = ("forward_delay", "hello_time", "max_age", "ageing_time", "stp_state", "priority",
               "vlan_filtering")
TUN_KEYS = ("type", "pi", "vnet_hdr", "multi_queue", "persist", "user", "group")
MACVLAN_KEYS = ("mode", "flags")
PORT_KEYS = ("priority", "cost", "hairpin", "guard", "root_block", "fastleave", "learning", "flood",
             "proxy_arp", "mcast_flood", "bcast_flood", "neigh_suppress", "isolated")
_COUNTER = re.compile(r"counter packets \d+ bytes \d+")
CMDS = ("ip -j -d link show", "ip -j addr show", "ip -j route show table main",
        "ip -j -6 route show table main", "ip -j neigh show nud permanent")


def _run(ns: str, cmd: str) -> str:
    r = subprocess.run(["nsenter", f"--net={ns}", "--", *cmd.split()], capture_output=True, text=True,
                       timeout=TIMEOUT)
    if r.returncode:
        return f"<{cmd}: exit {r.returncode}: {r.stderr.strip()}>"
    return r.stdout


def _json(ns: str, cmd: str) -> list[dict]:
    out = _run(ns, cmd)
    if out.startswith("<"):
        return [{"error": out}]
    return json.loads(out or "[]")


def _peer(li: dict) -> str:
    """The peer or lower link: by name in the namespace; in another namespace only that (its index there
    is the other namespace's, a new one when the engine made the peer again)."""
    if "link_netnsid" in li:
        return "<another namespace>"
    return str(li.get("link", li.get("link_index", "")))


def _link(li: dict) -> str:
    info = li.get("linkinfo", {})
    kind = info.get("info_kind", "")
    data = info.get("info_data", {})
    keys = BRIDGE_KEYS if kind == "bridge" else TUN_KEYS if kind == "tun" else MACVLAN_KEYS \
        if kind == "macvlan" else ()
    parts = [f"index={li.get('ifindex')}", f"kind={kind}", f"mtu={li.get('mtu')}",
             f"mac={li.get('address')}", f"txqlen={li.get('txqlen')}",
             "flags=" + ",".join(sorted(set(li.get("flags", [])) & ADMIN_FLAGS)),
             f"link={_peer(li)}", f"master={li.get('master', '')}",
             f"alias={li.get('ifalias', '')}"]
    parts += [f"{k}={data[k]}" for k in keys if k in data]
    if info.get("info_slave_kind") == "bridge":
        port = info.get("info_slave_data", {})
        parts += [f"port.{k}={port[k]}" for k in PORT_KEYS if k in port]
    return " ".join(parts)


def _addr(a: dict) -> str:
    flags = sorted(k for k, v in a.items() if v is True and k not in ADDR_FLAGS_SKIP)
    return (f"{a.get('local')}/{a.get('prefixlen')} scope={a.get('scope')} label={a.get('label', '')} "
            f"peer={a.get('address', '')} broadcast={a.get('broadcast', '')} {','.join(flags)}")


def _route(r: dict) -> str:
    keys = ("type", "dst", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "pref")
    flags = sorted(set(r.get("flags", [])) - ROUTE_FLAGS_SKIP)
    hops = ";".join(f"{h.get('gateway')}@{h.get('dev')}" for h in r.get("nexthops", []))
    return " ".join(f"{k}={r[k]}" for k in keys if k in r) + f" flags={','.join(flags)} nexthops={hops}"


def _nft(ns: str) -> str:
    if shutil.which("nft") is None:
        return "<nft not installed>"
    tables = [ln.split() for ln in _run(ns, "nft list tables").splitlines() if ln.startswith("table ")]
    out = []
    for t in tables:
        if len(t) == 3 and not t[2].startswith("stasis-"):  # the engine's network lock comes and goes
            out.append(_COUNTER.sub("counter", _run(ns, f"nft list table {t[1]} {t[2]}")))
    return " | ".join(" ".join(x.split()) for x in out)


def read(ns: str) -> dict[str, str]:
    """Field name -> value of the namespace whose /proc/.../ns/net file is `ns`."""
    if shutil.which("ip") is None or shutil.which("nsenter") is None:
        return {"net": "<ip or nsenter not installed>"}
    links, addrs, routes4, routes6, neigh = (_json(ns, c) for c in CMDS)
    out: dict[str, str] = {}
    for li in links:
        out[f"net link {li.get('ifname', li.get('error'))}"] = _link(li)
    for a in addrs:
        if "error" in a:
            out["net addr"] = a["error"]
            continue
        out[f"net addr {a.get('ifname')}"] = " | ".join(sorted(_addr(x) for x in a.get("addr_info", [])))
    out["net route4"] = " | ".join(sorted(_route(r) for r in routes4))
    out["net route6"] = " | ".join(sorted(_route(r) for r in routes6))
    out["net neigh"] = " | ".join(sorted(f"{n.get('dst')} {n.get('dev')} {n.get('lladdr')}" for n in neigh))
    out["net nft"] = _nft(ns)
    out.update(_confs(ns))
    return out


def _confs(ns: str) -> dict[str, str]:
    """Every per-device sysctl (net.ipv4.conf.<dev>.*, net.ipv6.conf.<dev>.*, also all and default), one
    field per device and family."""
    text = _run(ns, "grep -r . /proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf")
    if text.startswith("<"):  # grep exits 2 when a file cannot be read (stable_secret unset: EIO)
        text = subprocess.run(["nsenter", f"--net={ns}", "--", "grep", "-rs", ".", "/proc/sys/net/ipv4/conf",
                               "/proc/sys/net/ipv6/conf"], capture_output=True, text=True,
                              timeout=TIMEOUT).stdout
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        path, _, value = line.partition(":")
        parts = path.split("/")  # /proc/sys/net/<family>/conf/<dev>/<name>
        if len(parts) == 8:
            value = " ".join(value.split())
            fields.setdefault(f"net conf {parts[4]} {parts[6]}", []).append(f"{parts[7]}={value}")
    return {k: " ".join(sorted(v)) for k, v in fields.items()}
