from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class task_kobj_ids_entry(_message.Message):
    __slots__ = ("vm_id", "files_id", "fs_id", "sighand_id", "pid_ns_id", "net_ns_id", "ipc_ns_id", "uts_ns_id", "mnt_ns_id", "user_ns_id", "cgroup_ns_id", "time_ns_id")
    VM_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_ID_FIELD_NUMBER: _ClassVar[int]
    FS_ID_FIELD_NUMBER: _ClassVar[int]
    SIGHAND_ID_FIELD_NUMBER: _ClassVar[int]
    PID_NS_ID_FIELD_NUMBER: _ClassVar[int]
    NET_NS_ID_FIELD_NUMBER: _ClassVar[int]
    IPC_NS_ID_FIELD_NUMBER: _ClassVar[int]
    UTS_NS_ID_FIELD_NUMBER: _ClassVar[int]
    MNT_NS_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NS_ID_FIELD_NUMBER: _ClassVar[int]
    CGROUP_NS_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_ID_FIELD_NUMBER: _ClassVar[int]
    vm_id: int
    files_id: int
    fs_id: int
    sighand_id: int
    pid_ns_id: int
    net_ns_id: int
    ipc_ns_id: int
    uts_ns_id: int
    mnt_ns_id: int
    user_ns_id: int
    cgroup_ns_id: int
    time_ns_id: int
    def __init__(self, vm_id: _Optional[int] = ..., files_id: _Optional[int] = ..., fs_id: _Optional[int] = ..., sighand_id: _Optional[int] = ..., pid_ns_id: _Optional[int] = ..., net_ns_id: _Optional[int] = ..., ipc_ns_id: _Optional[int] = ..., uts_ns_id: _Optional[int] = ..., mnt_ns_id: _Optional[int] = ..., user_ns_id: _Optional[int] = ..., cgroup_ns_id: _Optional[int] = ..., time_ns_id: _Optional[int] = ...) -> None: ...
