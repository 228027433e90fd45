"""criu's RPC interface: `stasis swrk FD` (a runtime's child on a SOCK_SEQPACKET socketpair) and
`stasis service --address PATH` (a listening socket, a forked worker per connection). One criu_req per
datagram in, one criu_resp per datagram out, NOTIFY round trips in between (engine/rpc/server.py);
criu_opts are mapped onto the engine's options, field by field (engine/rpc/options.py).

Never a word on stdout or stderr: during a runtime's restore they are the container's stdio. What the
engine has to say goes to the request's log file (in its work dir), where runtimes quote it from.
"""

from __future__ import annotations

# The version VERSION reports. Runtimes compute major*10000 + minor*100 + sublevel (go-criu, libcriu;
# +100 and rounded when a gitid is set, so none is sent) and switch on it: runc needs >= 30000,
# podman 31100, crun and runc's external pid namespace handling 31500, CRI-O and podman's --pod restore
# 31600; runc >= 1.3 fails every checkpoint of a container with a network namespace below 31100. 4.2
# (40200) takes runc and podman down their modern paths (status-ready notify, freeze_cgroup on cgroup
# v2, lsm options accepted): what those paths ask that the engine cannot do is refused by option, by
# name, not hidden behind an old version. `name` says who answers.
MAJOR, MINOR = 4, 2
