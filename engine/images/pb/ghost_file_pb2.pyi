from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class remap_type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINKED: _ClassVar[remap_type]
    GHOST: _ClassVar[remap_type]
    PROCFS: _ClassVar[remap_type]
LINKED: remap_type
GHOST: remap_type
PROCFS: remap_type

class ghost_timeval(_message.Message):
    __slots__ = ("tv_sec", "tv_usec")
    TV_SEC_FIELD_NUMBER: _ClassVar[int]
    TV_USEC_FIELD_NUMBER: _ClassVar[int]
    tv_sec: int
    tv_usec: int
    def __init__(self, tv_sec: _Optional[int] = ..., tv_usec: _Optional[int] = ...) -> None: ...

class ghost_file_entry(_message.Message):
    __slots__ = ("uid", "gid", "mode", "dev", "ino", "rdev", "atim", "mtim", "chunks", "size", "symlnk_target", "stasis")
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DEV_FIELD_NUMBER: _ClassVar[int]
    INO_FIELD_NUMBER: _ClassVar[int]
    RDEV_FIELD_NUMBER: _ClassVar[int]
    ATIM_FIELD_NUMBER: _ClassVar[int]
    MTIM_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SYMLNK_TARGET_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    uid: int
    gid: int
    mode: int
    dev: int
    ino: int
    rdev: int
    atim: ghost_timeval
    mtim: ghost_timeval
    chunks: bool
    size: int
    symlnk_target: str
    stasis: stasis_ghost_file_entry
    def __init__(self, uid: _Optional[int] = ..., gid: _Optional[int] = ..., mode: _Optional[int] = ..., dev: _Optional[int] = ..., ino: _Optional[int] = ..., rdev: _Optional[int] = ..., atim: _Optional[_Union[ghost_timeval, _Mapping]] = ..., mtim: _Optional[_Union[ghost_timeval, _Mapping]] = ..., chunks: bool = ..., size: _Optional[int] = ..., symlnk_target: _Optional[str] = ..., stasis: _Optional[_Union[stasis_ghost_file_entry, _Mapping]] = ...) -> None: ...

class stasis_ghost_file_entry(_message.Message):
    __slots__ = ("atim_nsec", "mtim_nsec")
    ATIM_NSEC_FIELD_NUMBER: _ClassVar[int]
    MTIM_NSEC_FIELD_NUMBER: _ClassVar[int]
    atim_nsec: int
    mtim_nsec: int
    def __init__(self, atim_nsec: _Optional[int] = ..., mtim_nsec: _Optional[int] = ...) -> None: ...

class ghost_chunk_entry(_message.Message):
    __slots__ = ("len", "off")
    LEN_FIELD_NUMBER: _ClassVar[int]
    OFF_FIELD_NUMBER: _ClassVar[int]
    len: int
    off: int
    def __init__(self, len: _Optional[int] = ..., off: _Optional[int] = ...) -> None: ...

class remap_file_path_entry(_message.Message):
    __slots__ = ("orig_id", "remap_id", "remap_type")
    ORIG_ID_FIELD_NUMBER: _ClassVar[int]
    REMAP_ID_FIELD_NUMBER: _ClassVar[int]
    REMAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    orig_id: int
    remap_id: int
    remap_type: remap_type
    def __init__(self, orig_id: _Optional[int] = ..., remap_id: _Optional[int] = ..., remap_type: _Optional[_Union[remap_type, str]] = ...) -> None: ...
