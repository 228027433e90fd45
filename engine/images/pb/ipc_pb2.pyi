from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ipc_desc_entry(_message.Message):
    __slots__ = ("key", "uid", "gid", "cuid", "cgid", "mode", "id")
    KEY_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    CUID_FIELD_NUMBER: _ClassVar[int]
    CGID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    id: int
    def __init__(self, key: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ..., cuid: _Optional[int] = ..., cgid: _Optional[int] = ..., mode: _Optional[int] = ..., id: _Optional[int] = ...) -> None: ...

class ipc_shm_entry(_message.Message):
    __slots__ = ("desc", "size", "in_pagemaps", "hugetlb_flag", "stasis")
    DESC_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    IN_PAGEMAPS_FIELD_NUMBER: _ClassVar[int]
    HUGETLB_FLAG_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    desc: ipc_desc_entry
    size: int
    in_pagemaps: bool
    hugetlb_flag: int
    stasis: stasis_shm_entry
    def __init__(self, desc: _Optional[_Union[ipc_desc_entry, _Mapping]] = ..., size: _Optional[int] = ..., in_pagemaps: bool = ..., hugetlb_flag: _Optional[int] = ..., stasis: _Optional[_Union[stasis_shm_entry, _Mapping]] = ...) -> None: ...

class stasis_shm_entry(_message.Message):
    __slots__ = ("name_key", "nattch", "last_pid")
    NAME_KEY_FIELD_NUMBER: _ClassVar[int]
    NATTCH_FIELD_NUMBER: _ClassVar[int]
    LAST_PID_FIELD_NUMBER: _ClassVar[int]
    name_key: int
    nattch: int
    last_pid: int
    def __init__(self, name_key: _Optional[int] = ..., nattch: _Optional[int] = ..., last_pid: _Optional[int] = ...) -> None: ...

class ipc_sem_entry(_message.Message):
    __slots__ = ("desc", "nsems", "stasis")
    DESC_FIELD_NUMBER: _ClassVar[int]
    NSEMS_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    desc: ipc_desc_entry
    nsems: int
    stasis: stasis_sem_entry
    def __init__(self, desc: _Optional[_Union[ipc_desc_entry, _Mapping]] = ..., nsems: _Optional[int] = ..., stasis: _Optional[_Union[stasis_sem_entry, _Mapping]] = ...) -> None: ...

class stasis_sem_entry(_message.Message):
    __slots__ = ("last_pid",)
    LAST_PID_FIELD_NUMBER: _ClassVar[int]
    last_pid: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, last_pid: _Optional[_Iterable[int]] = ...) -> None: ...

class ipc_msg(_message.Message):
    __slots__ = ("mtype", "msize")
    MTYPE_FIELD_NUMBER: _ClassVar[int]
    MSIZE_FIELD_NUMBER: _ClassVar[int]
    mtype: int
    msize: int
    def __init__(self, mtype: _Optional[int] = ..., msize: _Optional[int] = ...) -> None: ...

class ipc_msg_entry(_message.Message):
    __slots__ = ("desc", "qbytes", "qnum")
    DESC_FIELD_NUMBER: _ClassVar[int]
    QBYTES_FIELD_NUMBER: _ClassVar[int]
    QNUM_FIELD_NUMBER: _ClassVar[int]
    desc: ipc_desc_entry
    qbytes: int
    qnum: int
    def __init__(self, desc: _Optional[_Union[ipc_desc_entry, _Mapping]] = ..., qbytes: _Optional[int] = ..., qnum: _Optional[int] = ...) -> None: ...
