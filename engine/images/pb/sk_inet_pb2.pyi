from . import fown_pb2 as _fown_pb2
from . import sk_opts_pb2 as _sk_opts_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ip_opts_raw_entry(_message.Message):
    __slots__ = ("hdrincl", "nodefrag", "checksum", "icmpv_filter")
    HDRINCL_FIELD_NUMBER: _ClassVar[int]
    NODEFRAG_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    ICMPV_FILTER_FIELD_NUMBER: _ClassVar[int]
    hdrincl: bool
    nodefrag: bool
    checksum: bool
    icmpv_filter: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, hdrincl: bool = ..., nodefrag: bool = ..., checksum: bool = ..., icmpv_filter: _Optional[_Iterable[int]] = ...) -> None: ...

class ip_opts_entry(_message.Message):
    __slots__ = ("freebind", "raw", "pktinfo", "tos", "ttl")
    FREEBIND_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    PKTINFO_FIELD_NUMBER: _ClassVar[int]
    TOS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    freebind: bool
    raw: ip_opts_raw_entry
    pktinfo: bool
    tos: int
    ttl: int
    def __init__(self, freebind: bool = ..., raw: _Optional[_Union[ip_opts_raw_entry, _Mapping]] = ..., pktinfo: bool = ..., tos: _Optional[int] = ..., ttl: _Optional[int] = ...) -> None: ...

class tcp_opts_entry(_message.Message):
    __slots__ = ("cork", "nodelay", "keepcnt", "keepidle", "keepintvl")
    CORK_FIELD_NUMBER: _ClassVar[int]
    NODELAY_FIELD_NUMBER: _ClassVar[int]
    KEEPCNT_FIELD_NUMBER: _ClassVar[int]
    KEEPIDLE_FIELD_NUMBER: _ClassVar[int]
    KEEPINTVL_FIELD_NUMBER: _ClassVar[int]
    cork: bool
    nodelay: bool
    keepcnt: int
    keepidle: int
    keepintvl: int
    def __init__(self, cork: bool = ..., nodelay: bool = ..., keepcnt: _Optional[int] = ..., keepidle: _Optional[int] = ..., keepintvl: _Optional[int] = ...) -> None: ...

class inet_sk_entry(_message.Message):
    __slots__ = ("id", "ino", "family", "type", "proto", "state", "src_port", "dst_port", "flags", "backlog", "src_addr", "dst_addr", "fown", "opts", "v6only", "ip_opts", "ifname", "ns_id", "shutdown", "tcp_opts", "stasis")
    ID_FIELD_NUMBER: _ClassVar[int]
    INO_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SRC_PORT_FIELD_NUMBER: _ClassVar[int]
    DST_PORT_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    SRC_ADDR_FIELD_NUMBER: _ClassVar[int]
    DST_ADDR_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    OPTS_FIELD_NUMBER: _ClassVar[int]
    V6ONLY_FIELD_NUMBER: _ClassVar[int]
    IP_OPTS_FIELD_NUMBER: _ClassVar[int]
    IFNAME_FIELD_NUMBER: _ClassVar[int]
    NS_ID_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_FIELD_NUMBER: _ClassVar[int]
    TCP_OPTS_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    ino: int
    family: int
    type: int
    proto: int
    state: int
    src_port: int
    dst_port: int
    flags: int
    backlog: int
    src_addr: _containers.RepeatedScalarFieldContainer[int]
    dst_addr: _containers.RepeatedScalarFieldContainer[int]
    fown: _fown_pb2.fown_entry
    opts: _sk_opts_pb2.sk_opts_entry
    v6only: bool
    ip_opts: ip_opts_entry
    ifname: str
    ns_id: int
    shutdown: _sk_opts_pb2.sk_shutdown
    tcp_opts: tcp_opts_entry
    stasis: stasis_inet_sk_entry
    def __init__(self, id: _Optional[int] = ..., ino: _Optional[int] = ..., family: _Optional[int] = ..., type: _Optional[int] = ..., proto: _Optional[int] = ..., state: _Optional[int] = ..., src_port: _Optional[int] = ..., dst_port: _Optional[int] = ..., flags: _Optional[int] = ..., backlog: _Optional[int] = ..., src_addr: _Optional[_Iterable[int]] = ..., dst_addr: _Optional[_Iterable[int]] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., opts: _Optional[_Union[_sk_opts_pb2.sk_opts_entry, _Mapping]] = ..., v6only: bool = ..., ip_opts: _Optional[_Union[ip_opts_entry, _Mapping]] = ..., ifname: _Optional[str] = ..., ns_id: _Optional[int] = ..., shutdown: _Optional[_Union[_sk_opts_pb2.sk_shutdown, str]] = ..., tcp_opts: _Optional[_Union[tcp_opts_entry, _Mapping]] = ..., stasis: _Optional[_Union[stasis_inet_sk_entry, _Mapping]] = ...) -> None: ...

class stasis_inet_sk_entry(_message.Message):
    __slots__ = ("congestion", "user_timeout", "notsent_lowat", "defer_accept", "quickack", "maxseg", "udp_cork", "recvtos", "recvttl", "transparent", "mtu_discover", "recverr", "tclass", "unicast_hops", "recvpktinfo6", "fastopen", "window_clamp", "syncnt", "linger2", "thin_lto", "mc_ttl", "mc_loop", "ping_group", "dgram", "uid", "lock_table", "peer_in_tree", "accept_queue")
    CONGESTION_FIELD_NUMBER: _ClassVar[int]
    USER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NOTSENT_LOWAT_FIELD_NUMBER: _ClassVar[int]
    DEFER_ACCEPT_FIELD_NUMBER: _ClassVar[int]
    QUICKACK_FIELD_NUMBER: _ClassVar[int]
    MAXSEG_FIELD_NUMBER: _ClassVar[int]
    UDP_CORK_FIELD_NUMBER: _ClassVar[int]
    RECVTOS_FIELD_NUMBER: _ClassVar[int]
    RECVTTL_FIELD_NUMBER: _ClassVar[int]
    TRANSPARENT_FIELD_NUMBER: _ClassVar[int]
    MTU_DISCOVER_FIELD_NUMBER: _ClassVar[int]
    RECVERR_FIELD_NUMBER: _ClassVar[int]
    TCLASS_FIELD_NUMBER: _ClassVar[int]
    UNICAST_HOPS_FIELD_NUMBER: _ClassVar[int]
    RECVPKTINFO6_FIELD_NUMBER: _ClassVar[int]
    FASTOPEN_FIELD_NUMBER: _ClassVar[int]
    WINDOW_CLAMP_FIELD_NUMBER: _ClassVar[int]
    SYNCNT_FIELD_NUMBER: _ClassVar[int]
    LINGER2_FIELD_NUMBER: _ClassVar[int]
    THIN_LTO_FIELD_NUMBER: _ClassVar[int]
    MC_TTL_FIELD_NUMBER: _ClassVar[int]
    MC_LOOP_FIELD_NUMBER: _ClassVar[int]
    PING_GROUP_FIELD_NUMBER: _ClassVar[int]
    DGRAM_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    LOCK_TABLE_FIELD_NUMBER: _ClassVar[int]
    PEER_IN_TREE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_QUEUE_FIELD_NUMBER: _ClassVar[int]
    congestion: str
    user_timeout: int
    notsent_lowat: int
    defer_accept: int
    quickack: bool
    maxseg: int
    udp_cork: bool
    recvtos: bool
    recvttl: bool
    transparent: bool
    mtu_discover: int
    recverr: bool
    tclass: int
    unicast_hops: int
    recvpktinfo6: bool
    fastopen: int
    window_clamp: int
    syncnt: int
    linger2: int
    thin_lto: bool
    mc_ttl: int
    mc_loop: bool
    ping_group: int
    dgram: stasis_dgram_sk_entry
    uid: int
    lock_table: str
    peer_in_tree: bool
    accept_queue: int
    def __init__(self, congestion: _Optional[str] = ..., user_timeout: _Optional[int] = ..., notsent_lowat: _Optional[int] = ..., defer_accept: _Optional[int] = ..., quickack: bool = ..., maxseg: _Optional[int] = ..., udp_cork: bool = ..., recvtos: bool = ..., recvttl: bool = ..., transparent: bool = ..., mtu_discover: _Optional[int] = ..., recverr: bool = ..., tclass: _Optional[int] = ..., unicast_hops: _Optional[int] = ..., recvpktinfo6: bool = ..., fastopen: _Optional[int] = ..., window_clamp: _Optional[int] = ..., syncnt: _Optional[int] = ..., linger2: _Optional[int] = ..., thin_lto: bool = ..., mc_ttl: _Optional[int] = ..., mc_loop: bool = ..., ping_group: _Optional[int] = ..., dgram: _Optional[_Union[stasis_dgram_sk_entry, _Mapping]] = ..., uid: _Optional[int] = ..., lock_table: _Optional[str] = ..., peer_in_tree: bool = ..., accept_queue: _Optional[int] = ...) -> None: ...

class stasis_dgram_sk_entry(_message.Message):
    __slots__ = ("udp_segment", "udp_gro", "no_check6_tx", "no_check6_rx", "cscov_send", "cscov_recv", "recvopts", "retopts", "recvorigdstaddr", "mc_all", "mc_if", "mc_hops6", "mc_loop6", "mc_if6", "recvtclass6", "recvhoplimit6", "mtu_discover6", "recverr6", "freebind6", "transparent6", "checksum6", "recvfragsize", "checksum_recv", "mc_all6", "recvorigdstaddr6", "autoflowlabel6", "dontfrag6", "recvrthdr6", "recvhopopts6", "recvdstopts6", "recvpathmtu6", "ping_ident", "uid", "gid", "mc", "unicast_if", "unicast_if6")
    UDP_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UDP_GRO_FIELD_NUMBER: _ClassVar[int]
    NO_CHECK6_TX_FIELD_NUMBER: _ClassVar[int]
    NO_CHECK6_RX_FIELD_NUMBER: _ClassVar[int]
    CSCOV_SEND_FIELD_NUMBER: _ClassVar[int]
    CSCOV_RECV_FIELD_NUMBER: _ClassVar[int]
    RECVOPTS_FIELD_NUMBER: _ClassVar[int]
    RETOPTS_FIELD_NUMBER: _ClassVar[int]
    RECVORIGDSTADDR_FIELD_NUMBER: _ClassVar[int]
    MC_ALL_FIELD_NUMBER: _ClassVar[int]
    MC_IF_FIELD_NUMBER: _ClassVar[int]
    MC_HOPS6_FIELD_NUMBER: _ClassVar[int]
    MC_LOOP6_FIELD_NUMBER: _ClassVar[int]
    MC_IF6_FIELD_NUMBER: _ClassVar[int]
    RECVTCLASS6_FIELD_NUMBER: _ClassVar[int]
    RECVHOPLIMIT6_FIELD_NUMBER: _ClassVar[int]
    MTU_DISCOVER6_FIELD_NUMBER: _ClassVar[int]
    RECVERR6_FIELD_NUMBER: _ClassVar[int]
    FREEBIND6_FIELD_NUMBER: _ClassVar[int]
    TRANSPARENT6_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM6_FIELD_NUMBER: _ClassVar[int]
    RECVFRAGSIZE_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_RECV_FIELD_NUMBER: _ClassVar[int]
    MC_ALL6_FIELD_NUMBER: _ClassVar[int]
    RECVORIGDSTADDR6_FIELD_NUMBER: _ClassVar[int]
    AUTOFLOWLABEL6_FIELD_NUMBER: _ClassVar[int]
    DONTFRAG6_FIELD_NUMBER: _ClassVar[int]
    RECVRTHDR6_FIELD_NUMBER: _ClassVar[int]
    RECVHOPOPTS6_FIELD_NUMBER: _ClassVar[int]
    RECVDSTOPTS6_FIELD_NUMBER: _ClassVar[int]
    RECVPATHMTU6_FIELD_NUMBER: _ClassVar[int]
    PING_IDENT_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    MC_FIELD_NUMBER: _ClassVar[int]
    UNICAST_IF_FIELD_NUMBER: _ClassVar[int]
    UNICAST_IF6_FIELD_NUMBER: _ClassVar[int]
    udp_segment: int
    udp_gro: bool
    no_check6_tx: bool
    no_check6_rx: bool
    cscov_send: int
    cscov_recv: int
    recvopts: bool
    retopts: bool
    recvorigdstaddr: bool
    mc_all: bool
    mc_if: bytes
    mc_hops6: int
    mc_loop6: bool
    mc_if6: int
    recvtclass6: bool
    recvhoplimit6: bool
    mtu_discover6: int
    recverr6: bool
    freebind6: bool
    transparent6: bool
    checksum6: int
    recvfragsize: bool
    checksum_recv: bool
    mc_all6: bool
    recvorigdstaddr6: bool
    autoflowlabel6: bool
    dontfrag6: bool
    recvrthdr6: bool
    recvhopopts6: bool
    recvdstopts6: bool
    recvpathmtu6: bool
    ping_ident: int
    uid: int
    gid: int
    mc: _containers.RepeatedCompositeFieldContainer[stasis_mc_membership]
    unicast_if: int
    unicast_if6: int
    def __init__(self, udp_segment: _Optional[int] = ..., udp_gro: bool = ..., no_check6_tx: bool = ..., no_check6_rx: bool = ..., cscov_send: _Optional[int] = ..., cscov_recv: _Optional[int] = ..., recvopts: bool = ..., retopts: bool = ..., recvorigdstaddr: bool = ..., mc_all: bool = ..., mc_if: _Optional[bytes] = ..., mc_hops6: _Optional[int] = ..., mc_loop6: bool = ..., mc_if6: _Optional[int] = ..., recvtclass6: bool = ..., recvhoplimit6: bool = ..., mtu_discover6: _Optional[int] = ..., recverr6: bool = ..., freebind6: bool = ..., transparent6: bool = ..., checksum6: _Optional[int] = ..., recvfragsize: bool = ..., checksum_recv: bool = ..., mc_all6: bool = ..., recvorigdstaddr6: bool = ..., autoflowlabel6: bool = ..., dontfrag6: bool = ..., recvrthdr6: bool = ..., recvhopopts6: bool = ..., recvdstopts6: bool = ..., recvpathmtu6: bool = ..., ping_ident: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ..., mc: _Optional[_Iterable[_Union[stasis_mc_membership, _Mapping]]] = ..., unicast_if: _Optional[int] = ..., unicast_if6: _Optional[int] = ...) -> None: ...

class stasis_mc_membership(_message.Message):
    __slots__ = ("ifindex", "group", "fmode", "sources")
    IFINDEX_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    FMODE_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    ifindex: int
    group: bytes
    fmode: int
    sources: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, ifindex: _Optional[int] = ..., group: _Optional[bytes] = ..., fmode: _Optional[int] = ..., sources: _Optional[_Iterable[bytes]] = ...) -> None: ...
