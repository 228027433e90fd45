from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class sa_entry(_message.Message):
    __slots__ = ("sigaction", "flags", "restorer", "mask", "compat_sigaction", "mask_extended")
    SIGACTION_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    RESTORER_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    COMPAT_SIGACTION_FIELD_NUMBER: _ClassVar[int]
    MASK_EXTENDED_FIELD_NUMBER: _ClassVar[int]
    sigaction: int
    flags: int
    restorer: int
    mask: int
    compat_sigaction: bool
    mask_extended: int
    def __init__(self, sigaction: _Optional[int] = ..., flags: _Optional[int] = ..., restorer: _Optional[int] = ..., mask: _Optional[int] = ..., compat_sigaction: bool = ..., mask_extended: _Optional[int] = ...) -> None: ...
