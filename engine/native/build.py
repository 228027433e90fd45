"""cffi (API mode) build script for the engine's one native module.

Only thin wrappers live here: the engine's logic stays in Python. Functions return -errno
on failure (never rely on a global errno across the Python boundary).
"""

from cffi import FFI

STRUCTS = r"""
struct st_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax,
                  ip, cs, flags, sp, ss, fs_base, gs_base, ds, es, fs, gs;
};
struct st_page_region { uint64_t start; uint64_t end; uint64_t categories; };
struct st_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages,
             category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct st_rseq_conf {
    uint64_t rseq_abi_pointer; uint32_t rseq_abi_size; uint32_t signature; uint32_t flags; uint32_t pad;
};
"""

CDEF = STRUCTS + r"""
typedef int pid_t;
struct iovec { void *iov_base; size_t iov_len; };

/* ptrace(2) without glibc's PEEK* special-casing; returns the result or -errno. */
long st_ptrace(long request, pid_t pid, uintptr_t addr, uintptr_t data);
/* Any syscall with up to six arguments; returns the result or -errno. */
long st_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
long st_process_vm_readv(pid_t pid, struct iovec *local, unsigned long nlocal,
                         struct iovec *remote, unsigned long nremote);
long st_process_vm_writev(pid_t pid, struct iovec *local, unsigned long nlocal,
                          struct iovec *remote, unsigned long nremote);
long st_pagemap_scan(int fd, struct st_pm_scan_arg *arg);
/* PAGEMAP_SCAN's selection over n /proc/PID/pagemap entries (the pages from addr on): categories
   derived from each entry (zero page: PFN == zero_pfn or in [hzero_lo, hzero_hi)), pages chosen as
   the ioctl chooses them (inverted, mask, anyof), written to out as merged [start, end) pairs
   (out holds n + 1 values). Returns the number of pairs. */
long st_pagemap_runs(const uint64_t *ents, size_t n, uint64_t addr, uint64_t zero_pfn, uint64_t hzero_lo,
                     uint64_t hzero_hi, uint64_t inverted, uint64_t mask, uint64_t anyof, uint64_t *out);
/* clone3(set_tid=[pid]) a child that does PTRACE_TRACEME and execs path: the empty restore helper. */
long st_spawn_helper(pid_t pid, const char *path, int set_tid_size, const pid_t *set_tid);
/* The same helper as an orphan: an intermediate child clone3()s it and exits, so its parent is the
   reaper (as for a daemon). It waits on *go_fd (to write one byte to, once seized), enters join_fds as
   st_spawn_ns_helper does, then execs. */
long st_spawn_orphan_helper(const char *path, const pid_t *set_tid, int *go_fd, const int *join_fds,
                            const unsigned long *join_flags, int njoin, int exec_fd);
/* The same helper as a sibling of the engine (CLONE_PARENT: a child of the engine's parent, criu's
   rst_sibling). It waits on *go_fd like the orphan one, then enters join_fds as st_spawn_ns_helper does. */
long st_spawn_sibling_helper(const char *path, const pid_t *set_tid, int *go_fd, const int *join_fds,
                             const unsigned long *join_flags, int njoin, int exec_fd);
/* The helper created in new namespaces (CLONE_NEW* in flags). With CLONE_NEWUSER it waits for one byte on
   *go_fd (written once its uid/gid maps are), becomes the namespace's root, and then execs. It first
   setns()s into join_fds[i] (join_flags[i]) in order (--join-ns; exit status 100 + i if one fails) and, with
   exec_fd >= 0, execs the helper by that fd (a joined mount namespace need not have its path). With
   CLONE_PARENT in flags (criu's rst_sibling) it is a child of the engine's parent, not traced: it always
   waits for the byte on *go_fd (written once it is seized, and its maps written) and does no
   PTRACE_TRACEME. */
long st_spawn_ns_helper(const char *path, unsigned long flags, int set_tid_size, const pid_t *set_tid,
                        int *go_fd, const int *join_fds, const unsigned long *join_flags, int njoin,
                        int exec_fd);
void st_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
"""

SOURCE = r"""
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/sched.h>

STRUCTS
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#define ST_PAGEMAP_SCAN _IOWR('f', 16, struct st_pm_scan_arg)

static long neg_errno(long r) { return r < 0 ? -errno : r; }

long st_ptrace(long request, pid_t pid, uintptr_t addr, uintptr_t data)
{
    return neg_errno(syscall(SYS_ptrace, request, pid, addr, data));
}

long st_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    return neg_errno(syscall(nr, a1, a2, a3, a4, a5, a6));
}

long st_process_vm_readv(pid_t pid, struct iovec *local, unsigned long nlocal,
                         struct iovec *remote, unsigned long nremote)
{
    return neg_errno(process_vm_readv(pid, local, nlocal, remote, nremote, 0));
}

long st_process_vm_writev(pid_t pid, struct iovec *local, unsigned long nlocal,
                          struct iovec *remote, unsigned long nremote)
{
    return neg_errno(process_vm_writev(pid, local, nlocal, remote, nremote, 0));
}

long st_pagemap_scan(int fd, struct st_pm_scan_arg *arg)
{
    return neg_errno(ioctl(fd, ST_PAGEMAP_SCAN, arg));
}

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_GUARD_REGION (1ULL << 58)
#define PM_FILE (1ULL << 61)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)
/* PAGEMAP_SCAN categories (<linux/fs.h>) */
#define CAT_FILE (1ULL << 2)
#define CAT_PRESENT (1ULL << 3)
#define CAT_SWAPPED (1ULL << 4)
#define CAT_PFNZERO (1ULL << 5)
#define CAT_SOFT_DIRTY (1ULL << 7)
#define CAT_GUARD (1ULL << 8)

long st_pagemap_runs(const uint64_t *ents, size_t n, uint64_t addr, uint64_t zero_pfn, uint64_t hzero_lo,
                     uint64_t hzero_hi, uint64_t inverted, uint64_t mask, uint64_t anyof, uint64_t *out)
{
    long nout = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        uint64_t e = ents[i], cat = 0, pfn = e & PM_PFN_MASK, va;

        if (e & PM_PRESENT) {
            cat = CAT_PRESENT;
            if (pfn && (pfn == zero_pfn || (pfn >= hzero_lo && pfn < hzero_hi)))
                cat |= CAT_PFNZERO;
        } else if (e & PM_SWAP) {
            cat = CAT_SWAPPED;
            if (e & PM_GUARD_REGION)
                cat |= CAT_GUARD;
        }
        if (cat && !(cat & CAT_PFNZERO) && (e & PM_FILE))
            cat |= CAT_FILE;  /* pagemap calls the huge zero page a file page, the ioctl does not */
        if (e & PM_SOFT_DIRTY)  /* holes too: the VMA is VM_SOFTDIRTY */
            cat |= CAT_SOFT_DIRTY;
        cat ^= inverted;
        if ((cat & mask) != mask || (anyof && !(cat & anyof)))
            continue;
        va = addr + i * 4096;
        if (nout && out[2 * nout - 1] == va)
            out[2 * nout - 1] = va + 4096;
        else {
            out[2 * nout] = va;
            out[2 * nout + 1] = va + 4096;
            nout++;
        }
    }
    return nout;
}

long st_spawn_helper(pid_t pid, const char *path, int set_tid_size, const pid_t *set_tid)
{
    struct clone_args args;
    char *const argv[] = { (char *)path, NULL };
    char *const envp[] = { NULL };
    long child;

    (void)pid;
    memset(&args, 0, sizeof(args));
    args.exit_signal = SIGCHLD;
    args.set_tid = (uintptr_t)set_tid;
    args.set_tid_size = set_tid_size;
    child = syscall(SYS_clone3, &args, sizeof(args));
    if (child < 0)
        return -errno;
    if (child == 0) {
        /* The child shares glibc state it must not trust (cached tid): raw syscalls only. */
        syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
        syscall(SYS_execve, path, argv, envp);
        syscall(SYS_exit_group, 127);
    }
    return child;
}

/* In a new helper, raw syscalls only (glibc's state is the parent's): wait for "go", join the namespaces
 * asked, exec the helper (by its fd when there is one: a joined mount namespace may not have its path). */
static void helper_go(int go_fd, const int *join_fds, const unsigned long *join_flags, int njoin, int exec_fd,
                      const char *path, char *const argv[], char *const envp[])
{
    char c;
    int i;

    if (syscall(SYS_read, go_fd, &c, 1) != 1)
        syscall(SYS_exit_group, 127);
    for (i = 0; i < njoin; i++)
        if (syscall(SYS_setns, join_fds[i], join_flags[i]))
            syscall(SYS_exit_group, 100 + i);
    if (exec_fd >= 0)
        syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
    else
        syscall(SYS_execve, path, argv, envp);
    syscall(SYS_exit_group, 127);
}

long st_spawn_orphan_helper(const char *path, const pid_t *set_tid, int *go_fd, const int *join_fds,
                            const unsigned long *join_flags, int njoin, int exec_fd)
{
    struct clone_args args;
    char *const argv[] = { (char *)path, NULL };
    char *const envp[] = { NULL };
    int go[2], status;
    long mid, child;

    if (pipe2(go, O_CLOEXEC))
        return -errno;
    memset(&args, 0, sizeof(args));
    args.exit_signal = SIGCHLD;
    mid = syscall(SYS_clone3, &args, sizeof(args));
    if (mid < 0) {
        mid = -errno;
        close(go[0]);
        close(go[1]);
        return mid;
    }
    if (mid == 0) {
        /* raw syscalls only: glibc's state is the parent's */
        args.set_tid = (uintptr_t)set_tid;
        args.set_tid_size = 1;
        child = syscall(SYS_clone3, &args, sizeof(args));
        if (child == 0) {
            helper_go(go[0], join_fds, join_flags, njoin, exec_fd, path, argv, envp);
        }
        syscall(SYS_exit_group, child < 0 ? errno : 0);
    }
    close(go[0]);
    if (waitpid(mid, &status, 0) != mid || !WIFEXITED(status) || WEXITSTATUS(status)) {
        close(go[1]);
        return WIFEXITED(status) && WEXITSTATUS(status) ? -WEXITSTATUS(status) : -ECHILD;
    }
    *go_fd = go[1];
    return set_tid[0];
}

long st_spawn_sibling_helper(const char *path, const pid_t *set_tid, int *go_fd, const int *join_fds,
                             const unsigned long *join_flags, int njoin, int exec_fd)
{
    struct clone_args args;
    char *const argv[] = { (char *)path, NULL };
    char *const envp[] = { NULL };
    int go[2];
    long child;

    if (pipe2(go, O_CLOEXEC))
        return -errno;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_PARENT;
    args.set_tid = (uintptr_t)set_tid;
    args.set_tid_size = 1;
    child = syscall(SYS_clone3, &args, sizeof(args));
    if (child < 0) {
        child = -errno;
        close(go[0]);
        close(go[1]);
        return child;
    }
    if (child == 0) {
        /* raw syscalls only: glibc's state is the parent's */
        syscall(SYS_close, go[1]);
        helper_go(go[0], join_fds, join_flags, njoin, exec_fd, path, argv, envp);
    }
    close(go[0]);
    *go_fd = go[1];
    return child;
}

long st_spawn_ns_helper(const char *path, unsigned long flags, int set_tid_size, const pid_t *set_tid,
                        int *go_fd, const int *join_fds, const unsigned long *join_flags, int njoin,
                        int exec_fd)
{
    int i;
    struct clone_args args;
    char *const argv[] = { (char *)path, NULL };
    char *const envp[] = { NULL };
    int go[2] = { -1, -1 };
    long child;
    char c;

    if ((flags & (CLONE_NEWUSER | CLONE_PARENT)) && pipe2(go, O_CLOEXEC))
        return -errno;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;  /* clone3: none with CLONE_PARENT */
    args.set_tid = (uintptr_t)set_tid;
    args.set_tid_size = set_tid_size;
    child = syscall(SYS_clone3, &args, sizeof(args));
    if (child < 0) {
        child = -errno;
        if (go[0] >= 0) {
            close(go[0]);
            close(go[1]);
        }
        return child;
    }
    if (child == 0) {
        /* raw syscalls only: glibc's state is the parent's */
        if (go[0] >= 0) {
            syscall(SYS_close, go[1]);  /* an engine that dies before the maps: EOF, not a hang */
            if (syscall(SYS_read, go[0], &c, 1) != 1)
                syscall(SYS_exit_group, 126);
        }
        if (flags & CLONE_NEWUSER) {
            /* the maps are written: the namespace's root, before exec keeps its capabilities;
               setgroups fails where the images say "deny", and then there are none to drop */
            if (syscall(SYS_setresgid, 0, 0, 0))
                syscall(SYS_exit_group, 125);
            syscall(SYS_setgroups, 0, NULL);
            if (syscall(SYS_setresuid, 0, 0, 0))
                syscall(SYS_exit_group, 125);
        }
        for (i = 0; i < njoin; i++)
            if (syscall(SYS_setns, join_fds[i], join_flags[i]))
                syscall(SYS_exit_group, 100 + i);
        if (!(flags & CLONE_PARENT))
            syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
        if (exec_fd >= 0)
            syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
        else
            syscall(SYS_execve, path, argv, envp);
        syscall(SYS_exit_group, 127);
    }
    if (go[0] >= 0) {
        close(go[0]);
        *go_fd = go[1];
    }
    return child;
}

void st_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    __cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]);
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source("engine.native._stasis_native", SOURCE.replace("STRUCTS", STRUCTS))

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
