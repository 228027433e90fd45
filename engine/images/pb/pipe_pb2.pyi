from . import fown_pb2 as _fown_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class pipe_entry(_message.Message):
    __slots__ = ("id", "pipe_id", "flags", "fown")
    ID_FIELD_NUMBER: _ClassVar[int]
    PIPE_ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    id: int
    pipe_id: int
    flags: int
    fown: _fown_pb2.fown_entry
    def __init__(self, id: _Optional[int] = ..., pipe_id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ...) -> None: ...

class pipe_data_entry(_message.Message):
    __slots__ = ("pipe_id", "bytes", "size")
    PIPE_ID_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    pipe_id: int
    bytes: int
    size: int
    def __init__(self, pipe_id: _Optional[int] = ..., bytes: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...
