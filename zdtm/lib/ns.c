/*
 * Flavors ns and uns (ZDTM_NEWNS): the test re-creates itself as pid 1 of new
 * pid/mnt/uts/net/ipc (+user) namespaces rooted at ZDTM_ROOT, as upstream CRIU's
 * lib/ns.c does.  Three processes are involved:
 *
 *   ZDTM_NEWNS=1  the launcher: clone()s into the new namespaces, writes the uid/gid
 *                 maps, waits for "ready" on a status socket, writes the init's host
 *                 pid to --pidfile and exits 0 (so make returns);
 *   (clone child) prepares the mount namespace, pivot_root()s into ZDTM_ROOT and
 *                 re-execs itself with ZDTM_NEWNS=2;
 *   ZDTM_NEWNS=2  the init: enters a new time namespace, forks the real test (which
 *                 continues in test_init() with pidfile <pidfile>ns), reaps, and on
 *                 SIGTERM forwards it to the test and exits with the test's verdict.
 */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"
#include "internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The clone child (and later the init) reports readiness on this fd. */
#define STATUS_FD 255

/* Upstream's maps: the init is root inside, and 18943/58467 (+27495,48244) are mapped. */
#define UID_MAP "0 20000 20000\n100000 200000 50000"
#define GID_MAP "0 400000 50000\n50000 500000 100000"

#define NS_STACK_SIZE (256 << 10)

struct ns_exec_args {
	char **argv;
	int status[2];
};

static int bring_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk, ret = -1;

	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		fprintf(stderr, "socket() for lo failed: %m\n");
		return -1;
	}
	if (ioctl(sk, SIOCGIFFLAGS, &ifr)) {
		fprintf(stderr, "SIOCGIFFLAGS(lo) failed: %m\n");
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr)) {
		fprintf(stderr, "SIOCSIFFLAGS(lo) failed: %m\n");
		goto out;
	}
	ret = 0;
out:
	close(sk);
	return ret;
}

/* @a @sep @b into @buf; paths that don't fit are an error, not a silent cut. */
static int path_cat(char *buf, const char *a, const char *sep, const char *b)
{
	if (snprintf(buf, PATH_MAX, "%s%s%s", a, sep, b) >= PATH_MAX) {
		fprintf(stderr, "Path too long: %s%s%s\n", a, sep, b);
		return -1;
	}
	return 0;
}

static int bind_private(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) || mount(NULL, dst, NULL, MS_PRIVATE, NULL)) {
		fprintf(stderr, "Can't bind-mount %s on %s: %m\n", src, dst);
		return -1;
	}
	return 0;
}

/*
 * Build the test's mount namespace: ZDTM_ROOT becomes "/", ZDTM_DEV is "/dev",
 * fresh proc, /run and devpts; then go back to the work dir.
 */
static int prepare_mntns(void)
{
	char root[PATH_MAX], cwd[PATH_MAX], path[PATH_MAX];
	const char *env, *target;
	size_t rlen;

	env = getenv("ZDTM_ROOT");
	if (!env) {
		fprintf(stderr, "ZDTM_ROOT isn't set\n");
		return -1;
	}
	if (!realpath(env, root)) {
		fprintf(stderr, "ZDTM_ROOT %s: %m\n", env);
		return -1;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "getcwd() failed: %m\n");
		return -1;
	}

	/* Nothing we mount below may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		fprintf(stderr, "Can't make / rslave: %m\n");
		return -1;
	}
	/*
	 * In a new userns the inherited mounts are locked together, and pivot_root
	 * wants new_root to be a mount point: so make a fresh recursive bind of it.
	 */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL)) {
		fprintf(stderr, "Can't bind-mount root %s: %m\n", root);
		return -1;
	}

	/* e.g. mnt_ro_root makes "/" read-only but still needs a writable work dir */
	env = getenv("ZDTM_BIND");
	if (env) {
		if (path_cat(path, root, "/", env))
			return -1;
		if (mount(path, path, NULL, MS_BIND, NULL)) {
			fprintf(stderr, "Can't bind-mount ZDTM_BIND %s: %m\n", path);
			return -1;
		}
	}

	/* /dev is a separate (external for C/R) mount, private so nothing leaks in or out */
	env = getenv("ZDTM_DEV");
	if (env) {
		if (path_cat(path, root, "/", "dev") || bind_private(env, path))
			return -1;
	}

	/* GCOV runs: the criu tree at the same path inside */
	env = getenv("ZDTM_CRIU");
	if (env) {
		if (path_cat(path, root, "", env) || bind_private(env, path))
			return -1;
	}

	/*
	 * The work dir to return to: upstream runs with cwd under ZDTM_ROOT (the
	 * root is a bind of test/), our harness may instead have it at the same
	 * absolute path inside the root.  Handle both.
	 */
	rlen = strlen(root);
	if (!strcmp(root, "/"))
		target = cwd;
	else if (!strncmp(cwd, root, rlen) && cwd[rlen] == '/')
		target = cwd + rlen;
	else if (!strcmp(cwd, root))
		target = "/";
	else
		target = cwd;

	if (chdir(root)) {
		fprintf(stderr, "chdir(%s) failed: %m\n", root);
		return -1;
	}
	if (mkdir("old", 0777) && errno != EEXIST) {
		fprintf(stderr, "mkdir(old) failed: %m\n");
		return -1;
	}
	if (syscall(SYS_pivot_root, ".", "./old")) {
		fprintf(stderr, "pivot_root(., ./old) failed: %m\n");
		return -1;
	}
	if (mount(NULL, "./old", NULL, MS_REC | MS_SLAVE, NULL)) {
		fprintf(stderr, "Can't make old root rslave: %m\n");
		return -1;
	}

	/*
	 * In a userns proc may only be mounted while a full proc is still visible,
	 * so this must happen before the old root goes away.
	 */
	if (mkdir("/proc", 0777) && errno != EEXIST) {
		fprintf(stderr, "mkdir(/proc) failed: %m\n");
		return -1;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL)) {
		fprintf(stderr, "mount(/proc) failed: %m\n");
		return -1;
	}
	if (mkdir("/run", 0777) && errno != EEXIST) {
		fprintf(stderr, "mkdir(/run) failed: %m\n");
		return -1;
	}
	if (mount("zdtm_run", "/run", "tmpfs", 0, NULL)) {
		fprintf(stderr, "Unable to mount /run: %m\n");
		return -1;
	}
	/*
	 * "old" itself is left in place: the root is shared by concurrently starting
	 * tests, and removing it could break another test's pivot_root.
	 */
	if (umount2("./old", MNT_DETACH)) {
		fprintf(stderr, "umount(./old) failed: %m\n");
		return -1;
	}

	if (mkdir("/dev/pts", 0755) && errno != EEXIST) {
		fprintf(stderr, "mkdir(/dev/pts) failed: %m\n");
		return -1;
	}
	if (mount("pts", "/dev/pts", "devpts", 0, "newinstance,mode=666,ptmxmode=666")) {
		fprintf(stderr, "mount(/dev/pts) failed: %m\n");
		return -1;
	}
	if (access("/dev/pts/ptmx", F_OK) == 0) {
		if (symlink("pts/ptmx", "/dev/ptmx") && errno != EEXIST) {
			fprintf(stderr, "symlink(/dev/ptmx) failed: %m\n");
			return -1;
		}
	} else if (mknod("/dev/ptmx", 0666 | S_IFCHR, makedev(5, 2)) && errno != EEXIST) {
		/* kernels without multi-instance devpts have no pts/ptmx */
		fprintf(stderr, "mknod(/dev/ptmx) failed: %m\n");
		return -1;
	}

	if (chdir(target)) {
		fprintf(stderr, "chdir(%s) inside the new root failed: %m\n", target);
		return -1;
	}
	return 0;
}

/* The clone child: pid 1 of the new namespaces, before the re-exec. */
static int ns_exec(void *_arg)
{
	struct ns_exec_args *args = _arg;
	char buf[64];

	close(args->status[0]);
	setsid();
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);

	if (dup2(args->status[1], STATUS_FD) < 0) {
		fprintf(stderr, "dup2() failed: %m\n");
		return 1;
	}
	if (args->status[1] != STATUS_FD)
		close(args->status[1]);

	/* The launcher shuts down its sending side once our uid/gid maps are written. */
	while (read(STATUS_FD, buf, sizeof(buf)) > 0)
		;
	shutdown(STATUS_FD, SHUT_RD);

	if (setuid(0) || setgid(0) || setgroups(0, NULL)) {
		fprintf(stderr, "set*id failed: %m\n");
		return 1;
	}
	if (bring_lo_up())
		return 1;
	if (prepare_mntns())
		return 1;

	setenv("ZDTM_NEWNS", "2", 1);
	execvp(args->argv[0], args->argv);
	/* argv[0] may not resolve inside the new root; the binary we run always does */
	execv("/proc/self/exe", args->argv);
	fprintf(stderr, "exec(%s) failed: %m\n", args->argv[0]);
	return 1;
}

static int write_file(const char *path, const char *data)
{
	size_t len = strlen(data);
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open(%s): %m\n", path);
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len) {
		fprintf(stderr, "write(%s) to %s: %m\n", data, path);
		close(fd);
		return -1;
	}
	return close(fd);
}

void ns_create(int argc, char **argv)
{
	struct ns_exec_args args = { .argv = argv };
	char path[PATH_MAX], *final_pidfile = pidfile, *inprogress;
	int flags, status, ret;
	char *stack;
	pid_t pid;

	(void)argc;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, args.status)) {
		fprintf(stderr, "socketpair() failed: %m\n");
		exit(1);
	}

	flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC | SIGCHLD;
	if (getenv("ZDTM_USERNS"))
		flags |= CLONE_NEWUSER;

	stack = mmap(NULL, NS_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		fprintf(stderr, "Can't allocate a stack: %m\n");
		exit(1);
	}
	pid = clone(ns_exec, stack + NS_STACK_SIZE, flags, &args);
	if (pid < 0) {
		fprintf(stderr, "clone() failed: %m\n");
		exit(1);
	}
	close(args.status[1]);

	if (flags & CLONE_NEWUSER) {
		/* setgroups stays "allow": the test calls setgroups() for ZDTM_GROUPS */
		snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
		if (write_file(path, UID_MAP))
			goto fail;
		snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
		if (write_file(path, GID_MAP))
			goto fail;
	}
	/* Go: the child sees EOF on its read side. */
	shutdown(args.status[0], SHUT_WR);

	/* <pidfile>.inprogress names the init while it is getting ready (for cleanup). */
	inprogress = malloc(strlen(final_pidfile) + sizeof(INPROGRESS));
	if (!inprogress)
		goto fail;
	sprintf(inprogress, "%s%s", final_pidfile, INPROGRESS);
	pidfile = inprogress;
	if (write_pidfile(pid)) {
		fprintf(stderr, "Preparations fail\n");
		goto fail;
	}

	/* The init sends its status (0 = the test is running), then everybody closes the fd. */
	status = 1;
	ret = read(args.status[0], &status, sizeof(status));
	if (ret != sizeof(status) || status) {
		fprintf(stderr, "The test failed (%d, %d)\n", ret, status);
		goto fail_unlink;
	}
	ret = read(args.status[0], &status, sizeof(status));
	if (ret != 0) {
		fprintf(stderr, "Unexpected message from test\n");
		goto fail_unlink;
	}

	unlink(inprogress);
	pidfile = final_pidfile;
	if (write_pidfile(pid))
		exit(1);
	exit(0);

fail_unlink:
	unlink(inprogress);
fail:
	kill(pid, SIGKILL);
	exit(1);
}

static int set_time_offset(clockid_t clk, int64_t seconds)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%d %" PRId64 " 0", (int)clk, seconds);
	return write_file("/proc/self/timens_offsets", buf);
}

/* Offsets must be set before any task lives in the new time namespace. */
static void create_timens(void)
{
	int fd;

	if (unshare(CLONE_NEWTIME)) {
		if (errno == EINVAL) {
			fprintf(stderr, "timens isn't supported\n");
			return;
		}
		fprintf(stderr, "unshare(CLONE_NEWTIME) failed: %m\n");
		exit(1);
	}
	if (set_time_offset(CLOCK_MONOTONIC, 10 * 24 * 60 * 60) || set_time_offset(CLOCK_BOOTTIME, 20 * 24 * 60 * 60))
		exit(1);

	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME)) {
		fprintf(stderr, "Can't enter the new time namespace: %m\n");
		exit(1);
	}
	close(fd);
}

static void ns_write_str(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		; /* nothing to do about it */
}

/* The init's handler: SIGTERM means "stop the test"; SIGCHLD reaps whatever died. */
static void ns_sig_hand(int signo)
{
	char buf[96];
	int status;
	pid_t pid;

	if (signo == SIGTERM) {
		futex_set_and_wake(&sig_received, signo);
		ns_write_str("Time to stop and check\n");
		return;
	}

	while (1) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			return;
		if (pid < 0) {
			if (errno != ECHILD) {
				ns_write_str("wait() failed\n");
				return;
			}
			/* Everybody is gone without a SIGTERM: nothing left to wait for. */
			if (!futex_get(&sig_received)) {
				futex_set_and_wake(&sig_received, signo);
				ns_write_str("All test processes exited\n");
			}
			return;
		}
		if (status) {
			snprintf(buf, sizeof(buf), "%d return %d\n", pid, status);
			ns_write_str(buf);
		}
	}
}

void ns_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = ns_sig_hand, .sa_flags = SA_RESTART };
	char buf[64], *ns_pidfile;
	int status, fd, reap;
	sigset_t chld;
	ssize_t n;
	pid_t pid, child;

	(void)argc;
	(void)argv;
	/* The test must not inherit the status fd, or the launcher never sees EOF. */
	if (fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC)) {
		fprintf(stderr, "fcntl(%d) failed: %m\n", STATUS_FD);
		exit(1);
	}

	create_timens();

	if (init_notify()) {
		fprintf(stderr, "Can't init pre-dump notification: %m\n");
		exit(1);
	}

	reap = getenv("ZDTM_NOREAP") == NULL;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGCHLD);
	if (sigaction(SIGTERM, &sa, NULL)) {
		fprintf(stderr, "Can't set SIGTERM handler: %m\n");
		exit(1);
	}

	/* The real test records its (in-namespace) pid in <pidfile>ns. */
	ns_pidfile = malloc(strlen(pidfile) + 3);
	if (!ns_pidfile)
		exit(1);
	sprintf(ns_pidfile, "%sns", pidfile);
	pidfile = ns_pidfile;

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork() failed: %m\n");
		exit(1);
	}
	if (pid == 0) {
		/* The test: continue the normal test_init() */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		sigemptyset(&dfl.sa_mask);
		sigaction(SIGTERM, &dfl, NULL);
		close(STATUS_FD);
		unsetenv("ZDTM_NEWNS");
		return;
	}

	/* That child is the test's launcher: it exits once the test is ready. */
	status = -1;
	if (waitpid(pid, &status, 0) < 0)
		fprintf(stderr, "waitpid() failed: %m\n");
	else if (status)
		fprintf(stderr, "The test returned non-zero code %d\n", status);

	if (reap) {
		if (sigaction(SIGCHLD, &sa, NULL)) {
			fprintf(stderr, "Can't set SIGCHLD handler: %m\n");
			exit(1);
		}
		/* Collect whatever already died before the handler was there. */
		while ((child = waitpid(-1, &fd, WNOHANG)) > 0)
			if (fd)
				fprintf(stderr, "%d return %d\n", child, fd);
	}

	/* Report to the launcher outside, then drop the fd so it sees EOF. */
	if (write(STATUS_FD, &status, sizeof(status)) != sizeof(status))
		fprintf(stderr, "Can't report the status: %m\n");
	close(STATUS_FD);
	if (status)
		exit(1);

	test_waitsig();

	/* From now on only the waits below collect children, so the test's status isn't stolen. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	fd = open(pidfile, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "open(%s) failed: %m\n", pidfile);
		exit(1);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "read(%s) failed: %m\n", pidfile);
		exit(1);
	}
	buf[n] = '\0';
	pid = atoi(buf);
	fprintf(stderr, "kill(%d, SIGTERM)\n", pid);
	if (pid <= 0 || kill(pid, SIGTERM)) {
		fprintf(stderr, "Can't signal the test %d: %m\n", pid);
		exit(1);
	}

	while (1) {
		child = waitpid(reap ? -1 : pid, &status, 0);
		if (child < 0) {
			fprintf(stderr, "Unable to wait for the test: %m\n");
			exit(1);
		}
		if (child == pid) {
			fprintf(stderr, "The test returned 0x%x\n", status);
			exit(status == 0 ? 0 : 1);
		}
		if (status)
			fprintf(stderr, "The %d process exited with 0x%x\n", child, status);
	}
}
