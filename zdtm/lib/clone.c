/* Raw clone(2): the argument order of the syscall differs between architectures. */
#include <sys/syscall.h>

#include "zdtmtst.h"

pid_t sys_clone_unified(unsigned long flags, void *child_stack, void *parent_tid, void *child_tid,
			unsigned long newtls)
{
#if defined(__x86_64__)
	return (pid_t)syscall(SYS_clone, flags, child_stack, parent_tid, child_tid, newtls);
#elif defined(__i386__) || defined(__arm__) || defined(__aarch64__) || defined(__powerpc64__) || defined(__mips__)
	return (pid_t)syscall(SYS_clone, flags, child_stack, parent_tid, newtls, child_tid);
#elif defined(__s390x__)
	return (pid_t)syscall(SYS_clone, child_stack, flags, parent_tid, child_tid, newtls);
#else
#error "sys_clone_unified: unsupported architecture"
#endif
}
