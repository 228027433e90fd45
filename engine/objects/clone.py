"""struct clone_args (v2, 88 bytes), as the injected clone3() calls pass it."""

import struct

# flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
CLONE_ARGS = struct.Struct("<QQQQQQQQQQQ")
