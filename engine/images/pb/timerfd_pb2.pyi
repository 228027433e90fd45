from . import fown_pb2 as _fown_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class timerfd_entry(_message.Message):
    __slots__ = ("id", "flags", "fown", "clockid", "ticks", "settime_flags", "vsec", "vnsec", "isec", "insec", "stasis")
    ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    CLOCKID_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    SETTIME_FLAGS_FIELD_NUMBER: _ClassVar[int]
    VSEC_FIELD_NUMBER: _ClassVar[int]
    VNSEC_FIELD_NUMBER: _ClassVar[int]
    ISEC_FIELD_NUMBER: _ClassVar[int]
    INSEC_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    flags: int
    fown: _fown_pb2.fown_entry
    clockid: int
    ticks: int
    settime_flags: int
    vsec: int
    vnsec: int
    isec: int
    insec: int
    stasis: stasis_timerfd_entry
    def __init__(self, id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., clockid: _Optional[int] = ..., ticks: _Optional[int] = ..., settime_flags: _Optional[int] = ..., vsec: _Optional[int] = ..., vnsec: _Optional[int] = ..., isec: _Optional[int] = ..., insec: _Optional[int] = ..., stasis: _Optional[_Union[stasis_timerfd_entry, _Mapping]] = ...) -> None: ...

class stasis_timerfd_entry(_message.Message):
    __slots__ = ("abs_sec", "abs_nsec")
    ABS_SEC_FIELD_NUMBER: _ClassVar[int]
    ABS_NSEC_FIELD_NUMBER: _ClassVar[int]
    abs_sec: int
    abs_nsec: int
    def __init__(self, abs_sec: _Optional[int] = ..., abs_nsec: _Optional[int] = ...) -> None: ...
