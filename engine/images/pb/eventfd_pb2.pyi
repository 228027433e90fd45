from . import fown_pb2 as _fown_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class eventfd_file_entry(_message.Message):
    __slots__ = ("id", "flags", "fown", "counter", "stasis")
    ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    COUNTER_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    flags: int
    fown: _fown_pb2.fown_entry
    counter: int
    stasis: stasis_eventfd_entry
    def __init__(self, id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., counter: _Optional[int] = ..., stasis: _Optional[_Union[stasis_eventfd_entry, _Mapping]] = ...) -> None: ...

class stasis_eventfd_entry(_message.Message):
    __slots__ = ("semaphore",)
    SEMAPHORE_FIELD_NUMBER: _ClassVar[int]
    semaphore: bool
    def __init__(self, semaphore: bool = ...) -> None: ...
