from . import fown_pb2 as _fown_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TtyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[TtyType]
    PTY: _ClassVar[TtyType]
    CONSOLE: _ClassVar[TtyType]
    VT: _ClassVar[TtyType]
    CTTY: _ClassVar[TtyType]
    EXT_TTY: _ClassVar[TtyType]
    SERIAL: _ClassVar[TtyType]
UNKNOWN: TtyType
PTY: TtyType
CONSOLE: TtyType
VT: TtyType
CTTY: TtyType
EXT_TTY: TtyType
SERIAL: TtyType

class winsize_entry(_message.Message):
    __slots__ = ("ws_row", "ws_col", "ws_xpixel", "ws_ypixel")
    WS_ROW_FIELD_NUMBER: _ClassVar[int]
    WS_COL_FIELD_NUMBER: _ClassVar[int]
    WS_XPIXEL_FIELD_NUMBER: _ClassVar[int]
    WS_YPIXEL_FIELD_NUMBER: _ClassVar[int]
    ws_row: int
    ws_col: int
    ws_xpixel: int
    ws_ypixel: int
    def __init__(self, ws_row: _Optional[int] = ..., ws_col: _Optional[int] = ..., ws_xpixel: _Optional[int] = ..., ws_ypixel: _Optional[int] = ...) -> None: ...

class termios_entry(_message.Message):
    __slots__ = ("c_iflag", "c_oflag", "c_cflag", "c_lflag", "c_line", "c_ispeed", "c_ospeed", "c_cc")
    C_IFLAG_FIELD_NUMBER: _ClassVar[int]
    C_OFLAG_FIELD_NUMBER: _ClassVar[int]
    C_CFLAG_FIELD_NUMBER: _ClassVar[int]
    C_LFLAG_FIELD_NUMBER: _ClassVar[int]
    C_LINE_FIELD_NUMBER: _ClassVar[int]
    C_ISPEED_FIELD_NUMBER: _ClassVar[int]
    C_OSPEED_FIELD_NUMBER: _ClassVar[int]
    C_CC_FIELD_NUMBER: _ClassVar[int]
    c_iflag: int
    c_oflag: int
    c_cflag: int
    c_lflag: int
    c_line: int
    c_ispeed: int
    c_ospeed: int
    c_cc: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, c_iflag: _Optional[int] = ..., c_oflag: _Optional[int] = ..., c_cflag: _Optional[int] = ..., c_lflag: _Optional[int] = ..., c_line: _Optional[int] = ..., c_ispeed: _Optional[int] = ..., c_ospeed: _Optional[int] = ..., c_cc: _Optional[_Iterable[int]] = ...) -> None: ...

class tty_pty_entry(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: int
    def __init__(self, index: _Optional[int] = ...) -> None: ...

class tty_info_entry(_message.Message):
    __slots__ = ("id", "type", "locked", "exclusive", "packet_mode", "sid", "pgrp", "rdev", "termios", "termios_locked", "winsize", "pty", "dev", "uid", "gid", "stasis")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    EXCLUSIVE_FIELD_NUMBER: _ClassVar[int]
    PACKET_MODE_FIELD_NUMBER: _ClassVar[int]
    SID_FIELD_NUMBER: _ClassVar[int]
    PGRP_FIELD_NUMBER: _ClassVar[int]
    RDEV_FIELD_NUMBER: _ClassVar[int]
    TERMIOS_FIELD_NUMBER: _ClassVar[int]
    TERMIOS_LOCKED_FIELD_NUMBER: _ClassVar[int]
    WINSIZE_FIELD_NUMBER: _ClassVar[int]
    PTY_FIELD_NUMBER: _ClassVar[int]
    DEV_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: TtyType
    locked: bool
    exclusive: bool
    packet_mode: bool
    sid: int
    pgrp: int
    rdev: int
    termios: termios_entry
    termios_locked: termios_entry
    winsize: winsize_entry
    pty: tty_pty_entry
    dev: int
    uid: int
    gid: int
    stasis: stasis_tty_info_entry
    def __init__(self, id: _Optional[int] = ..., type: _Optional[_Union[TtyType, str]] = ..., locked: bool = ..., exclusive: bool = ..., packet_mode: bool = ..., sid: _Optional[int] = ..., pgrp: _Optional[int] = ..., rdev: _Optional[int] = ..., termios: _Optional[_Union[termios_entry, _Mapping]] = ..., termios_locked: _Optional[_Union[termios_entry, _Mapping]] = ..., winsize: _Optional[_Union[winsize_entry, _Mapping]] = ..., pty: _Optional[_Union[tty_pty_entry, _Mapping]] = ..., dev: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ..., stasis: _Optional[_Union[stasis_tty_info_entry, _Mapping]] = ...) -> None: ...

class stasis_tty_info_entry(_message.Message):
    __slots__ = ("mode", "slave_closed")
    MODE_FIELD_NUMBER: _ClassVar[int]
    SLAVE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    mode: int
    slave_closed: bool
    def __init__(self, mode: _Optional[int] = ..., slave_closed: bool = ...) -> None: ...

class tty_file_entry(_message.Message):
    __slots__ = ("id", "tty_info_id", "flags", "fown", "regf_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TTY_INFO_ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FOWN_FIELD_NUMBER: _ClassVar[int]
    REGF_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    tty_info_id: int
    flags: int
    fown: _fown_pb2.fown_entry
    regf_id: int
    def __init__(self, id: _Optional[int] = ..., tty_info_id: _Optional[int] = ..., flags: _Optional[int] = ..., fown: _Optional[_Union[_fown_pb2.fown_entry, _Mapping]] = ..., regf_id: _Optional[int] = ...) -> None: ...
