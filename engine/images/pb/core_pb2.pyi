from . import core_x86_pb2 as _core_x86_pb2
from . import creds_pb2 as _creds_pb2
from . import ids_pb2 as _ids_pb2
from . import rlimit_pb2 as _rlimit_pb2
from . import rseq_pb2 as _rseq_pb2
from . import sa_pb2 as _sa_pb2
from . import siginfo_pb2 as _siginfo_pb2
from . import timer_pb2 as _timer_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class seccomp_mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    disabled: _ClassVar[seccomp_mode]
    strict: _ClassVar[seccomp_mode]
    filter: _ClassVar[seccomp_mode]
disabled: seccomp_mode
strict: seccomp_mode
filter: seccomp_mode

class task_core_entry(_message.Message):
    __slots__ = ("task_state", "exit_code", "personality", "flags", "blk_sigset", "comm", "timers", "rlimits", "cg_set", "signals_s", "old_seccomp_mode", "old_seccomp_filter", "loginuid", "oom_score_adj", "sigactions", "child_subreaper", "blk_sigset_extended", "stop_signo", "membarrier_registration_mask", "timerslack_ns", "stasis")
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERSONALITY_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    BLK_SIGSET_FIELD_NUMBER: _ClassVar[int]
    COMM_FIELD_NUMBER: _ClassVar[int]
    TIMERS_FIELD_NUMBER: _ClassVar[int]
    RLIMITS_FIELD_NUMBER: _ClassVar[int]
    CG_SET_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_S_FIELD_NUMBER: _ClassVar[int]
    OLD_SECCOMP_MODE_FIELD_NUMBER: _ClassVar[int]
    OLD_SECCOMP_FILTER_FIELD_NUMBER: _ClassVar[int]
    LOGINUID_FIELD_NUMBER: _ClassVar[int]
    OOM_SCORE_ADJ_FIELD_NUMBER: _ClassVar[int]
    SIGACTIONS_FIELD_NUMBER: _ClassVar[int]
    CHILD_SUBREAPER_FIELD_NUMBER: _ClassVar[int]
    BLK_SIGSET_EXTENDED_FIELD_NUMBER: _ClassVar[int]
    STOP_SIGNO_FIELD_NUMBER: _ClassVar[int]
    MEMBARRIER_REGISTRATION_MASK_FIELD_NUMBER: _ClassVar[int]
    TIMERSLACK_NS_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    task_state: int
    exit_code: int
    personality: int
    flags: int
    blk_sigset: int
    comm: str
    timers: _timer_pb2.task_timers_entry
    rlimits: _rlimit_pb2.task_rlimits_entry
    cg_set: int
    signals_s: _siginfo_pb2.signal_queue_entry
    old_seccomp_mode: seccomp_mode
    old_seccomp_filter: int
    loginuid: int
    oom_score_adj: int
    sigactions: _containers.RepeatedCompositeFieldContainer[_sa_pb2.sa_entry]
    child_subreaper: bool
    blk_sigset_extended: int
    stop_signo: int
    membarrier_registration_mask: int
    timerslack_ns: int
    stasis: stasis_task_entry
    def __init__(self, task_state: _Optional[int] = ..., exit_code: _Optional[int] = ..., personality: _Optional[int] = ..., flags: _Optional[int] = ..., blk_sigset: _Optional[int] = ..., comm: _Optional[str] = ..., timers: _Optional[_Union[_timer_pb2.task_timers_entry, _Mapping]] = ..., rlimits: _Optional[_Union[_rlimit_pb2.task_rlimits_entry, _Mapping]] = ..., cg_set: _Optional[int] = ..., signals_s: _Optional[_Union[_siginfo_pb2.signal_queue_entry, _Mapping]] = ..., old_seccomp_mode: _Optional[_Union[seccomp_mode, str]] = ..., old_seccomp_filter: _Optional[int] = ..., loginuid: _Optional[int] = ..., oom_score_adj: _Optional[int] = ..., sigactions: _Optional[_Iterable[_Union[_sa_pb2.sa_entry, _Mapping]]] = ..., child_subreaper: bool = ..., blk_sigset_extended: _Optional[int] = ..., stop_signo: _Optional[int] = ..., membarrier_registration_mask: _Optional[int] = ..., timerslack_ns: _Optional[int] = ..., stasis: _Optional[_Union[stasis_task_entry, _Mapping]] = ...) -> None: ...

class stasis_task_entry(_message.Message):
    __slots__ = ("exit_signal", "stop_reported", "coredump_filter", "autogroup_nice", "cgroup", "mlockall", "mdwe", "xcomp_perm", "memory_merge", "vma_policies", "fd_table_size", "nested_pgid", "nested_sid", "pid_for_children_ns_id", "time_for_children_ns_id", "session_keyring")
    EXIT_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STOP_REPORTED_FIELD_NUMBER: _ClassVar[int]
    COREDUMP_FILTER_FIELD_NUMBER: _ClassVar[int]
    AUTOGROUP_NICE_FIELD_NUMBER: _ClassVar[int]
    CGROUP_FIELD_NUMBER: _ClassVar[int]
    MLOCKALL_FIELD_NUMBER: _ClassVar[int]
    MDWE_FIELD_NUMBER: _ClassVar[int]
    XCOMP_PERM_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MERGE_FIELD_NUMBER: _ClassVar[int]
    VMA_POLICIES_FIELD_NUMBER: _ClassVar[int]
    FD_TABLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NESTED_PGID_FIELD_NUMBER: _ClassVar[int]
    NESTED_SID_FIELD_NUMBER: _ClassVar[int]
    PID_FOR_CHILDREN_NS_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FOR_CHILDREN_NS_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_KEYRING_FIELD_NUMBER: _ClassVar[int]
    exit_signal: int
    stop_reported: bool
    coredump_filter: int
    autogroup_nice: int
    cgroup: str
    mlockall: int
    mdwe: int
    xcomp_perm: int
    memory_merge: bool
    vma_policies: _containers.RepeatedCompositeFieldContainer[stasis_vma_policy]
    fd_table_size: int
    nested_pgid: int
    nested_sid: int
    pid_for_children_ns_id: int
    time_for_children_ns_id: int
    session_keyring: stasis_keyring
    def __init__(self, exit_signal: _Optional[int] = ..., stop_reported: bool = ..., coredump_filter: _Optional[int] = ..., autogroup_nice: _Optional[int] = ..., cgroup: _Optional[str] = ..., mlockall: _Optional[int] = ..., mdwe: _Optional[int] = ..., xcomp_perm: _Optional[int] = ..., memory_merge: bool = ..., vma_policies: _Optional[_Iterable[_Union[stasis_vma_policy, _Mapping]]] = ..., fd_table_size: _Optional[int] = ..., nested_pgid: _Optional[int] = ..., nested_sid: _Optional[int] = ..., pid_for_children_ns_id: _Optional[int] = ..., time_for_children_ns_id: _Optional[int] = ..., session_keyring: _Optional[_Union[stasis_keyring, _Mapping]] = ...) -> None: ...

class stasis_keyring(_message.Message):
    __slots__ = ("serial", "name", "perm", "uid", "gid")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PERM_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    GID_FIELD_NUMBER: _ClassVar[int]
    serial: int
    name: str
    perm: int
    uid: int
    gid: int
    def __init__(self, serial: _Optional[int] = ..., name: _Optional[str] = ..., perm: _Optional[int] = ..., uid: _Optional[int] = ..., gid: _Optional[int] = ...) -> None: ...

class stasis_vma_policy(_message.Message):
    __slots__ = ("start", "end", "mode", "nodes")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    mode: int
    nodes: bytes
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., mode: _Optional[int] = ..., nodes: _Optional[bytes] = ...) -> None: ...

class stasis_thread_entry(_message.Message):
    __slots__ = ("sched_policy", "sched_flags", "sched_nice", "sched_priority", "sched_runtime", "sched_deadline", "sched_period", "sched_util_min", "sched_util_max", "affinity", "ioprio", "timerslack_ns", "mce_kill", "tsc", "sud_mode", "sud_offset", "sud_len", "sud_selector", "mempolicy_mode", "mempolicy_nodes", "fs_cwd", "fs_root", "fs_umask", "outer_tid", "nested_tids")
    SCHED_POLICY_FIELD_NUMBER: _ClassVar[int]
    SCHED_FLAGS_FIELD_NUMBER: _ClassVar[int]
    SCHED_NICE_FIELD_NUMBER: _ClassVar[int]
    SCHED_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SCHED_RUNTIME_FIELD_NUMBER: _ClassVar[int]
    SCHED_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SCHED_PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCHED_UTIL_MIN_FIELD_NUMBER: _ClassVar[int]
    SCHED_UTIL_MAX_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    IOPRIO_FIELD_NUMBER: _ClassVar[int]
    TIMERSLACK_NS_FIELD_NUMBER: _ClassVar[int]
    MCE_KILL_FIELD_NUMBER: _ClassVar[int]
    TSC_FIELD_NUMBER: _ClassVar[int]
    SUD_MODE_FIELD_NUMBER: _ClassVar[int]
    SUD_OFFSET_FIELD_NUMBER: _ClassVar[int]
    SUD_LEN_FIELD_NUMBER: _ClassVar[int]
    SUD_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    MEMPOLICY_MODE_FIELD_NUMBER: _ClassVar[int]
    MEMPOLICY_NODES_FIELD_NUMBER: _ClassVar[int]
    FS_CWD_FIELD_NUMBER: _ClassVar[int]
    FS_ROOT_FIELD_NUMBER: _ClassVar[int]
    FS_UMASK_FIELD_NUMBER: _ClassVar[int]
    OUTER_TID_FIELD_NUMBER: _ClassVar[int]
    NESTED_TIDS_FIELD_NUMBER: _ClassVar[int]
    sched_policy: int
    sched_flags: int
    sched_nice: int
    sched_priority: int
    sched_runtime: int
    sched_deadline: int
    sched_period: int
    sched_util_min: int
    sched_util_max: int
    affinity: bytes
    ioprio: int
    timerslack_ns: int
    mce_kill: int
    tsc: int
    sud_mode: int
    sud_offset: int
    sud_len: int
    sud_selector: int
    mempolicy_mode: int
    mempolicy_nodes: bytes
    fs_cwd: str
    fs_root: str
    fs_umask: int
    outer_tid: int
    nested_tids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, sched_policy: _Optional[int] = ..., sched_flags: _Optional[int] = ..., sched_nice: _Optional[int] = ..., sched_priority: _Optional[int] = ..., sched_runtime: _Optional[int] = ..., sched_deadline: _Optional[int] = ..., sched_period: _Optional[int] = ..., sched_util_min: _Optional[int] = ..., sched_util_max: _Optional[int] = ..., affinity: _Optional[bytes] = ..., ioprio: _Optional[int] = ..., timerslack_ns: _Optional[int] = ..., mce_kill: _Optional[int] = ..., tsc: _Optional[int] = ..., sud_mode: _Optional[int] = ..., sud_offset: _Optional[int] = ..., sud_len: _Optional[int] = ..., sud_selector: _Optional[int] = ..., mempolicy_mode: _Optional[int] = ..., mempolicy_nodes: _Optional[bytes] = ..., fs_cwd: _Optional[str] = ..., fs_root: _Optional[str] = ..., fs_umask: _Optional[int] = ..., outer_tid: _Optional[int] = ..., nested_tids: _Optional[_Iterable[int]] = ...) -> None: ...

class thread_sas_entry(_message.Message):
    __slots__ = ("ss_sp", "ss_size", "ss_flags")
    SS_SP_FIELD_NUMBER: _ClassVar[int]
    SS_SIZE_FIELD_NUMBER: _ClassVar[int]
    SS_FLAGS_FIELD_NUMBER: _ClassVar[int]
    ss_sp: int
    ss_size: int
    ss_flags: int
    def __init__(self, ss_sp: _Optional[int] = ..., ss_size: _Optional[int] = ..., ss_flags: _Optional[int] = ...) -> None: ...

class thread_core_entry(_message.Message):
    __slots__ = ("futex_rla", "futex_rla_len", "sched_nice", "sched_policy", "sched_prio", "blk_sigset", "sas", "pdeath_sig", "signals_p", "creds", "seccomp_mode", "seccomp_filter", "comm", "blk_sigset_extended", "rseq_entry", "cg_set", "stasis")
    FUTEX_RLA_FIELD_NUMBER: _ClassVar[int]
    FUTEX_RLA_LEN_FIELD_NUMBER: _ClassVar[int]
    SCHED_NICE_FIELD_NUMBER: _ClassVar[int]
    SCHED_POLICY_FIELD_NUMBER: _ClassVar[int]
    SCHED_PRIO_FIELD_NUMBER: _ClassVar[int]
    BLK_SIGSET_FIELD_NUMBER: _ClassVar[int]
    SAS_FIELD_NUMBER: _ClassVar[int]
    PDEATH_SIG_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_P_FIELD_NUMBER: _ClassVar[int]
    CREDS_FIELD_NUMBER: _ClassVar[int]
    SECCOMP_MODE_FIELD_NUMBER: _ClassVar[int]
    SECCOMP_FILTER_FIELD_NUMBER: _ClassVar[int]
    COMM_FIELD_NUMBER: _ClassVar[int]
    BLK_SIGSET_EXTENDED_FIELD_NUMBER: _ClassVar[int]
    RSEQ_ENTRY_FIELD_NUMBER: _ClassVar[int]
    CG_SET_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    futex_rla: int
    futex_rla_len: int
    sched_nice: int
    sched_policy: int
    sched_prio: int
    blk_sigset: int
    sas: thread_sas_entry
    pdeath_sig: int
    signals_p: _siginfo_pb2.signal_queue_entry
    creds: _creds_pb2.creds_entry
    seccomp_mode: seccomp_mode
    seccomp_filter: int
    comm: str
    blk_sigset_extended: int
    rseq_entry: _rseq_pb2.rseq_entry
    cg_set: int
    stasis: stasis_thread_entry
    def __init__(self, futex_rla: _Optional[int] = ..., futex_rla_len: _Optional[int] = ..., sched_nice: _Optional[int] = ..., sched_policy: _Optional[int] = ..., sched_prio: _Optional[int] = ..., blk_sigset: _Optional[int] = ..., sas: _Optional[_Union[thread_sas_entry, _Mapping]] = ..., pdeath_sig: _Optional[int] = ..., signals_p: _Optional[_Union[_siginfo_pb2.signal_queue_entry, _Mapping]] = ..., creds: _Optional[_Union[_creds_pb2.creds_entry, _Mapping]] = ..., seccomp_mode: _Optional[_Union[seccomp_mode, str]] = ..., seccomp_filter: _Optional[int] = ..., comm: _Optional[str] = ..., blk_sigset_extended: _Optional[int] = ..., rseq_entry: _Optional[_Union[_rseq_pb2.rseq_entry, _Mapping]] = ..., cg_set: _Optional[int] = ..., stasis: _Optional[_Union[stasis_thread_entry, _Mapping]] = ...) -> None: ...

class core_entry(_message.Message):
    __slots__ = ("mtype", "thread_info", "tc", "ids", "thread_core")
    class march(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN: _ClassVar[core_entry.march]
        X86_64: _ClassVar[core_entry.march]
        ARM: _ClassVar[core_entry.march]
        AARCH64: _ClassVar[core_entry.march]
        PPC64: _ClassVar[core_entry.march]
        S390: _ClassVar[core_entry.march]
        MIPS: _ClassVar[core_entry.march]
        LOONGARCH64: _ClassVar[core_entry.march]
        RISCV64: _ClassVar[core_entry.march]
    UNKNOWN: core_entry.march
    X86_64: core_entry.march
    ARM: core_entry.march
    AARCH64: core_entry.march
    PPC64: core_entry.march
    S390: core_entry.march
    MIPS: core_entry.march
    LOONGARCH64: core_entry.march
    RISCV64: core_entry.march
    MTYPE_FIELD_NUMBER: _ClassVar[int]
    THREAD_INFO_FIELD_NUMBER: _ClassVar[int]
    TC_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    THREAD_CORE_FIELD_NUMBER: _ClassVar[int]
    mtype: core_entry.march
    thread_info: _core_x86_pb2.thread_info_x86
    tc: task_core_entry
    ids: _ids_pb2.task_kobj_ids_entry
    thread_core: thread_core_entry
    def __init__(self, mtype: _Optional[_Union[core_entry.march, str]] = ..., thread_info: _Optional[_Union[_core_x86_pb2.thread_info_x86, _Mapping]] = ..., tc: _Optional[_Union[task_core_entry, _Mapping]] = ..., ids: _Optional[_Union[_ids_pb2.task_kobj_ids_entry, _Mapping]] = ..., thread_core: _Optional[_Union[thread_core_entry, _Mapping]] = ...) -> None: ...
