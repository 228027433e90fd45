#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that two stacked seccomp filters survive C/R: Seccomp: 2, filtered syscalls fail "
		       "with their errno, others work";
const char *test_author = "Stasis developers";

#define ERRNO_UNAME EPERM
#define ERRNO_SYNCFS ENOTBLK

/* Allow everything except one syscall, which fails with @err; any other arch is killed */
static int install_filter(int nr, int err)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int status_field(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	FILE *f;
	int v = -1;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = atoi(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

/* 0 if every syscall behaves as the filters say; otherwise reports through @restored ? fail : pr_err */
static int check_syscalls(int filtered, int restored)
{
	struct utsname u;
	long r;
	int e;

	errno = 0;
	r = syscall(SYS_uname, &u);
	e = errno;
	if (filtered ? (r != -1 || e != ERRNO_UNAME) : r != 0) {
		if (restored)
			fail("uname returned %ld errno %d, expected %s", r, e, filtered ? "-1 EPERM" : "0");
		else
			pr_err("uname returned %ld errno %d\n", r, e);
		return 1;
	}
	errno = 0;
	r = syscall(SYS_syncfs, 0);	/* fd 0 is /dev/null: syncfs works on any fd */
	e = errno;
	if (filtered ? (r != -1 || e != ERRNO_SYNCFS) : r != 0) {
		if (restored)
			fail("syncfs returned %ld errno %d, expected %s", r, e, filtered ? "-1 ENOTBLK" : "0");
		else
			pr_err("syncfs returned %ld errno %d\n", r, e);
		return 1;
	}
	/* Syscalls no filter mentions */
	errno = 0;
	if (syscall(SYS_getppid) < 0 || syscall(SYS_getpid) != getpid() || syscall(SYS_fsync, 0) != -1 ||
	    errno != EINVAL) {
		if (restored)
			fail("an unfiltered syscall misbehaves");
		else
			pr_err("an unfiltered syscall misbehaves (errno %d)\n", errno);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int mode, nfilters;

	test_init(argc, argv);

	if (status_field("Seccomp") != 0) {
		pr_err("the test already runs under seccomp\n");
		return 1;
	}
	if (check_syscalls(0, 0))
		return 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		pr_perror("PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (install_filter(__NR_uname, ERRNO_UNAME) || install_filter(__NR_syncfs, ERRNO_SYNCFS)) {
		pr_perror("seccomp(SECCOMP_SET_MODE_FILTER)");
		return 1;
	}
	if (check_syscalls(1, 0))
		return 1;
	if (status_field("Seccomp") != SECCOMP_MODE_FILTER || status_field("Seccomp_filters") != 2) {
		pr_err("/proc/self/status: Seccomp %d Seccomp_filters %d right after installing two filters\n",
		       status_field("Seccomp"), status_field("Seccomp_filters"));
		return 1;
	}

	test_daemon();
	test_waitsig();

	mode = status_field("Seccomp");
	nfilters = status_field("Seccomp_filters");
	if (mode != SECCOMP_MODE_FILTER || nfilters != 2) {
		fail("/proc/self/status: Seccomp %d Seccomp_filters %d, expected 2 and 2", mode, nfilters);
		return 1;
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER) {
		fail("PR_GET_SECCOMP is not SECCOMP_MODE_FILTER");
		return 1;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		fail("no_new_privs is gone");
		return 1;
	}
	if (check_syscalls(1, 1))
		return 1;

	pass();
	return 0;
}
