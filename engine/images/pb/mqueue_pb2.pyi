from . import fown_pb2 as _fown_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class stasis_mq_msg(_message.Message):
    __slots__ = ("prio", "data")
    PRIO_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    prio: int
    data: bytes
    def __init__(self, prio: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class stasis_mqueue(_message.Message):
    __slots__ = ("ino", "name", "mode", "uid", "gid", "maxmsg", "msgsize", "msgs", "unlinked")
    INO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    MAXMSG_FIELD_NUMBER: _ClassVar[int]
    MSGSIZE_FIELD_NUMBER: _ClassVar[int]
    MSGS_FIELD_NUMBER: _ClassVar[int]
    UNLINKED_FIELD_NUMBER: _ClassVar[int]
    ino: int
    name: str
    mode: int
    uid: int
    gid: int
    maxmsg: int
    msgsize: int
    msgs: _containers.RepeatedCompositeFieldContainer[stasis_mq_msg]
    unlinked: bool
    def __init__(self, ino: _Optional[int] = ..., name: _Optional[str] = ..., mode: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ..., maxmsg: _Optional[int] = ..., msgsize: _Optional[int] = ..., msgs: _Optional[_Iterable[_Union[stasis_mq_msg, _Mapping]]] = ..., unlinked: bool = ...) -> None: ...

class stasis_ipc_var_entry(_message.Message):
    __slots__ = ("mqueues", "mq_dev")
    MQUEUES_FIELD_NUMBER: _ClassVar[int]
    MQ_DEV_FIELD_NUMBER: _ClassVar[int]
    mqueues: _containers.RepeatedCompositeFieldContainer[stasis_mqueue]
    mq_dev: int
    def __init__(self, mqueues: _Optional[_Iterable[_Union[stasis_mqueue, _Mapping]]] = ..., mq_dev: _Optional[int] = ...) -> None: ...

class stasis_mqueue_file_entry(_message.Message):
    __slots__ = ("id", "flags", "fown", "queue")
    ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    id: int
    flags: int
    fown: _fown_pb2.fown_entry
    queue: int
    def __init__(self, id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., queue: _Optional[int] = ...) -> None: ...
