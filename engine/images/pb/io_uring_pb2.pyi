from . import fown_pb2 as _fown_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class stasis_io_uring_entry(_message.Message):
    __slots__ = ("id", "flags", "fown", "inode_id", "instance")
    ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    INODE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    id: int
    flags: int
    fown: _fown_pb2.fown_entry
    inode_id: int
    instance: stasis_io_uring_instance
    def __init__(self, id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., inode_id: _Optional[int] = ..., instance: _Optional[_Union[stasis_io_uring_instance, _Mapping]] = ...) -> None: ...

class stasis_io_uring_instance(_message.Message):
    __slots__ = ("sq_entries", "cq_entries", "setup_flags", "sq_head", "sq_tail", "cq_head", "cq_tail", "rings", "sqes", "files", "bufs", "pid")
    SQ_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CQ_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SETUP_FLAGS_FIELD_NUMBER: _ClassVar[int]
    SQ_HEAD_FIELD_NUMBER: _ClassVar[int]
    SQ_TAIL_FIELD_NUMBER: _ClassVar[int]
    CQ_HEAD_FIELD_NUMBER: _ClassVar[int]
    CQ_TAIL_FIELD_NUMBER: _ClassVar[int]
    RINGS_FIELD_NUMBER: _ClassVar[int]
    SQES_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    BUFS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    sq_entries: int
    cq_entries: int
    setup_flags: int
    sq_head: int
    sq_tail: int
    cq_head: int
    cq_tail: int
    rings: bytes
    sqes: bytes
    files: _containers.RepeatedScalarFieldContainer[int]
    bufs: _containers.RepeatedCompositeFieldContainer[stasis_io_uring_buf]
    pid: int
    def __init__(self, sq_entries: _Optional[int] = ..., cq_entries: _Optional[int] = ..., setup_flags: _Optional[int] = ..., sq_head: _Optional[int] = ..., sq_tail: _Optional[int] = ..., cq_head: _Optional[int] = ..., cq_tail: _Optional[int] = ..., rings: _Optional[bytes] = ..., sqes: _Optional[bytes] = ..., files: _Optional[_Iterable[int]] = ..., bufs: _Optional[_Iterable[_Union[stasis_io_uring_buf, _Mapping]]] = ..., pid: _Optional[int] = ...) -> None: ...

class stasis_io_uring_buf(_message.Message):
    __slots__ = ("addr", "len")
    ADDR_FIELD_NUMBER: _ClassVar[int]
    LEN_FIELD_NUMBER: _ClassVar[int]
    addr: int
    len: int
    def __init__(self, addr: _Optional[int] = ..., len: _Optional[int] = ...) -> None: ...
