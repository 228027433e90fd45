from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class scm_entry(_message.Message):
    __slots__ = ("type", "rights")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RIGHTS_FIELD_NUMBER: _ClassVar[int]
    type: int
    rights: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, type: _Optional[int] = ..., rights: _Optional[_Iterable[int]] = ...) -> None: ...

class sk_ucred_entry(_message.Message):
    __slots__ = ("uid", "gid", "pid")
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    uid: int
    gid: int
    pid: int
    def __init__(self, uid: _Optional[int] = ..., gid: _Optional[int] = ..., pid: _Optional[int] = ...) -> None: ...

class sk_packet_entry(_message.Message):
    __slots__ = ("id_for", "length", "scm", "stasis")
    ID_FOR_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    SCM_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id_for: int
    length: int
    scm: _containers.RepeatedCompositeFieldContainer[scm_entry]
    stasis: stasis_sk_packet_entry
    def __init__(self, id_for: _Optional[int] = ..., length: _Optional[int] = ..., scm: _Optional[_Iterable[_Union[scm_entry, _Mapping]]] = ..., stasis: _Optional[_Union[stasis_sk_packet_entry, _Mapping]] = ...) -> None: ...

class stasis_sk_packet_entry(_message.Message):
    __slots__ = ("addr", "ucred", "security")
    ADDR_FIELD_NUMBER: _ClassVar[int]
    UCRED_FIELD_NUMBER: _ClassVar[int]
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    addr: bytes
    ucred: sk_ucred_entry
    security: bytes
    def __init__(self, addr: _Optional[bytes] = ..., ucred: _Optional[_Union[sk_ucred_entry, _Mapping]] = ..., security: _Optional[bytes] = ...) -> None: ...
