from . import fown_pb2 as _fown_pb2
from . import sk_opts_pb2 as _sk_opts_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class netlink_sk_entry(_message.Message):
    __slots__ = ("id", "ino", "protocol", "state", "flags", "portid", "groups", "dst_portid", "dst_group", "fown", "opts", "ns_id", "stasis")
    ID_FIELD_NUMBER: _ClassVar[int]
    INO_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    PORTID_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    DST_PORTID_FIELD_NUMBER: _ClassVar[int]
    DST_GROUP_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    OPTS_FIELD_NUMBER: _ClassVar[int]
    NS_ID_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    ino: int
    protocol: int
    state: int
    flags: int
    portid: int
    groups: _containers.RepeatedScalarFieldContainer[int]
    dst_portid: int
    dst_group: int
    fown: _fown_pb2.fown_entry
    opts: _sk_opts_pb2.sk_opts_entry
    ns_id: int
    stasis: stasis_netlink_sk_entry
    def __init__(self, id: _Optional[int] = ..., ino: _Optional[int] = ..., protocol: _Optional[int] = ..., state: _Optional[int] = ..., flags: _Optional[int] = ..., portid: _Optional[int] = ..., groups: _Optional[_Iterable[int]] = ..., dst_portid: _Optional[int] = ..., dst_group: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., opts: _Optional[_Union[_sk_opts_pb2.sk_opts_entry, _Mapping]] = ..., ns_id: _Optional[int] = ..., stasis: _Optional[_Union[stasis_netlink_sk_entry, _Mapping]] = ...) -> None: ...

class stasis_netlink_sk_entry(_message.Message):
    __slots__ = ("memberships", "pktinfo", "broadcast_error", "no_enobufs", "listen_all_nsid", "cap_ack", "ext_ack", "get_strict_chk", "type", "uid", "gid")
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    PKTINFO_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NO_ENOBUFS_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ALL_NSID_FIELD_NUMBER: _ClassVar[int]
    CAP_ACK_FIELD_NUMBER: _ClassVar[int]
    EXT_ACK_FIELD_NUMBER: _ClassVar[int]
    GET_STRICT_CHK_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    memberships: _containers.RepeatedScalarFieldContainer[int]
    pktinfo: bool
    broadcast_error: bool
    no_enobufs: bool
    listen_all_nsid: bool
    cap_ack: bool
    ext_ack: bool
    get_strict_chk: bool
    type: int
    uid: int
    gid: int
    def __init__(self, memberships: _Optional[_Iterable[int]] = ..., pktinfo: bool = ..., broadcast_error: bool = ..., no_enobufs: bool = ..., listen_all_nsid: bool = ..., cap_ack: bool = ..., ext_ack: bool = ..., get_strict_chk: bool = ..., type: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ...) -> None: ...
