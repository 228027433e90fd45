from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class timespec(_message.Message):
    __slots__ = ("tv_sec", "tv_nsec")
    TV_SEC_FIELD_NUMBER: _ClassVar[int]
    TV_NSEC_FIELD_NUMBER: _ClassVar[int]
    tv_sec: int
    tv_nsec: int
    def __init__(self, tv_sec: _Optional[int] = ..., tv_nsec: _Optional[int] = ...) -> None: ...

class timens_entry(_message.Message):
    __slots__ = ("monotonic", "boottime", "stasis")
    MONOTONIC_FIELD_NUMBER: _ClassVar[int]
    BOOTTIME_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    monotonic: timespec
    boottime: timespec
    stasis: stasis_timens_entry
    def __init__(self, monotonic: _Optional[_Union[timespec, _Mapping]] = ..., boottime: _Optional[_Union[timespec, _Mapping]] = ..., stasis: _Optional[_Union[stasis_timens_entry, _Mapping]] = ...) -> None: ...

class stasis_timens_entry(_message.Message):
    __slots__ = ("boot_id", "monotonic_offset", "boottime_offset")
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    MONOTONIC_OFFSET_FIELD_NUMBER: _ClassVar[int]
    BOOTTIME_OFFSET_FIELD_NUMBER: _ClassVar[int]
    boot_id: str
    monotonic_offset: int
    boottime_offset: int
    def __init__(self, boot_id: _Optional[str] = ..., monotonic_offset: _Optional[int] = ..., boottime_offset: _Optional[int] = ...) -> None: ...
