from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class sk_shutdown(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NONE: _ClassVar[sk_shutdown]
    READ: _ClassVar[sk_shutdown]
    WRITE: _ClassVar[sk_shutdown]
    BOTH: _ClassVar[sk_shutdown]
NONE: sk_shutdown
READ: sk_shutdown
WRITE: sk_shutdown
BOTH: sk_shutdown

class sk_opts_entry(_message.Message):
    __slots__ = ("so_sndbuf", "so_rcvbuf", "so_snd_tmo_sec", "so_snd_tmo_usec", "so_rcv_tmo_sec", "so_rcv_tmo_usec", "reuseaddr", "so_priority", "so_rcvlowat", "so_mark", "so_passcred", "so_passsec", "so_dontroute", "so_no_check", "so_bound_dev", "so_filter", "so_reuseport", "so_broadcast", "so_keepalive", "tcp_keepcnt", "tcp_keepidle", "tcp_keepintvl", "so_oobinline", "so_linger", "so_buf_lock", "stasis")
    SO_SNDBUF_FIELD_NUMBER: _ClassVar[int]
    SO_RCVBUF_FIELD_NUMBER: _ClassVar[int]
    SO_SND_TMO_SEC_FIELD_NUMBER: _ClassVar[int]
    SO_SND_TMO_USEC_FIELD_NUMBER: _ClassVar[int]
    SO_RCV_TMO_SEC_FIELD_NUMBER: _ClassVar[int]
    SO_RCV_TMO_USEC_FIELD_NUMBER: _ClassVar[int]
    REUSEADDR_FIELD_NUMBER: _ClassVar[int]
    SO_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SO_RCVLOWAT_FIELD_NUMBER: _ClassVar[int]
    SO_MARK_FIELD_NUMBER: _ClassVar[int]
    SO_PASSCRED_FIELD_NUMBER: _ClassVar[int]
    SO_PASSSEC_FIELD_NUMBER: _ClassVar[int]
    SO_DONTROUTE_FIELD_NUMBER: _ClassVar[int]
    SO_NO_CHECK_FIELD_NUMBER: _ClassVar[int]
    SO_BOUND_DEV_FIELD_NUMBER: _ClassVar[int]
    SO_FILTER_FIELD_NUMBER: _ClassVar[int]
    SO_REUSEPORT_FIELD_NUMBER: _ClassVar[int]
    SO_BROADCAST_FIELD_NUMBER: _ClassVar[int]
    SO_KEEPALIVE_FIELD_NUMBER: _ClassVar[int]
    TCP_KEEPCNT_FIELD_NUMBER: _ClassVar[int]
    TCP_KEEPIDLE_FIELD_NUMBER: _ClassVar[int]
    TCP_KEEPINTVL_FIELD_NUMBER: _ClassVar[int]
    SO_OOBINLINE_FIELD_NUMBER: _ClassVar[int]
    SO_LINGER_FIELD_NUMBER: _ClassVar[int]
    SO_BUF_LOCK_FIELD_NUMBER: _ClassVar[int]
    STASIS_FIELD_NUMBER: _ClassVar[int]
    so_sndbuf: int
    so_rcvbuf: int
    so_snd_tmo_sec: int
    so_snd_tmo_usec: int
    so_rcv_tmo_sec: int
    so_rcv_tmo_usec: int
    reuseaddr: bool
    so_priority: int
    so_rcvlowat: int
    so_mark: int
    so_passcred: bool
    so_passsec: bool
    so_dontroute: bool
    so_no_check: bool
    so_bound_dev: str
    so_filter: _containers.RepeatedScalarFieldContainer[int]
    so_reuseport: bool
    so_broadcast: bool
    so_keepalive: bool
    tcp_keepcnt: int
    tcp_keepidle: int
    tcp_keepintvl: int
    so_oobinline: int
    so_linger: int
    so_buf_lock: int
    stasis: stasis_sk_opts_entry
    def __init__(self, so_sndbuf: _Optional[int] = ..., so_rcvbuf: _Optional[int] = ..., so_snd_tmo_sec: _Optional[int] = ..., so_snd_tmo_usec: _Optional[int] = ..., so_rcv_tmo_sec: _Optional[int] = ..., so_rcv_tmo_usec: _Optional[int] = ..., reuseaddr: bool = ..., so_priority: _Optional[int] = ..., so_rcvlowat: _Optional[int] = ..., so_mark: _Optional[int] = ..., so_passcred: bool = ..., so_passsec: bool = ..., so_dontroute: bool = ..., so_no_check: bool = ..., so_bound_dev: _Optional[str] = ..., so_filter: _Optional[_Iterable[int]] = ..., so_reuseport: bool = ..., so_broadcast: bool = ..., so_keepalive: bool = ..., tcp_keepcnt: _Optional[int] = ..., tcp_keepidle: _Optional[int] = ..., tcp_keepintvl: _Optional[int] = ..., so_oobinline: _Optional[int] = ..., so_linger: _Optional[int] = ..., so_buf_lock: _Optional[int] = ..., stasis: _Optional[_Union[stasis_sk_opts_entry, _Mapping]] = ...) -> None: ...

class stasis_sk_opts_entry(_message.Message):
    __slots__ = ("peek_off", "timestamp", "timestampns", "timestamping", "passpidfd", "lock_filter", "linger_zero", "busy_poll", "rxq_ovfl", "wifi_status", "select_err_queue", "incoming_cpu", "max_pacing_rate")
    PEEK_OFF_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPNS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPING_FIELD_NUMBER: _ClassVar[int]
    PASSPIDFD_FIELD_NUMBER: _ClassVar[int]
    LOCK_FILTER_FIELD_NUMBER: _ClassVar[int]
    LINGER_ZERO_FIELD_NUMBER: _ClassVar[int]
    BUSY_POLL_FIELD_NUMBER: _ClassVar[int]
    RXQ_OVFL_FIELD_NUMBER: _ClassVar[int]
    WIFI_STATUS_FIELD_NUMBER: _ClassVar[int]
    SELECT_ERR_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INCOMING_CPU_FIELD_NUMBER: _ClassVar[int]
    MAX_PACING_RATE_FIELD_NUMBER: _ClassVar[int]
    peek_off: int
    timestamp: bool
    timestampns: bool
    timestamping: int
    passpidfd: bool
    lock_filter: bool
    linger_zero: bool
    busy_poll: int
    rxq_ovfl: bool
    wifi_status: bool
    select_err_queue: bool
    incoming_cpu: int
    max_pacing_rate: int
    def __init__(self, peek_off: _Optional[int] = ..., timestamp: bool = ..., timestampns: bool = ..., timestamping: _Optional[int] = ..., passpidfd: bool = ..., lock_filter: bool = ..., linger_zero: bool = ..., busy_poll: _Optional[int] = ..., rxq_ovfl: bool = ..., wifi_status: bool = ..., select_err_queue: bool = ..., incoming_cpu: _Optional[int] = ..., max_pacing_rate: _Optional[int] = ...) -> None: ...
