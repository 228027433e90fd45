from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SysctlType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CTL_STR: _ClassVar[SysctlType]
    CTL_32: _ClassVar[SysctlType]
CTL_STR: SysctlType
CTL_32: SysctlType

class sysctl_entry(_message.Message):
    __slots__ = ("type", "iarg", "sarg")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    IARG_FIELD_NUMBER: _ClassVar[int]
    SARG_FIELD_NUMBER: _ClassVar[int]
    type: SysctlType
    iarg: int
    sarg: str
    def __init__(self, type: _Optional[_Union[SysctlType, str]] = ..., iarg: _Optional[int] = ..., sarg: _Optional[str] = ...) -> None: ...
