from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class utsns_entry(_message.Message):
    __slots__ = ("nodename", "domainname")
    NODENAME_FIELD_NUMBER: _ClassVar[int]
    DOMAINNAME_FIELD_NUMBER: _ClassVar[int]
    nodename: str
    domainname: str
    def __init__(self, nodename: _Optional[str] = ..., domainname: _Optional[str] = ...) -> None: ...
