#ifndef ZDTM_NS_USER_NESTED_H
#define ZDTM_NS_USER_NESTED_H
/*
 * A child in a user namespace below the test's (its ids mapped to 0 by the test, setgroups denied), with a
 * UTS namespace owned by it, a thread and a child; with_pidns: a pid namespace made with the user
 * namespace, the child being its init. ns_user_nested00, ns_user_pid_nested00.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_user.h"

#define HOST "nested-user"

static int ready[2], go[2], mapped[2];
static volatile pid_t thread_tid;

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return arg;
}

static int slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

struct seen {
	char uid_map[256], gid_map[256], setgroups[32], status_caps[64], nspid[128];
};

static int look(struct seen *s)
{
	char status[4096], *p;

	if (slurp("/proc/self/uid_map", s->uid_map, sizeof(s->uid_map)) ||
	    slurp("/proc/self/gid_map", s->gid_map, sizeof(s->gid_map)) ||
	    slurp("/proc/self/setgroups", s->setgroups, sizeof(s->setgroups)) ||
	    slurp("/proc/self/status", status, sizeof(status)))
		return -1;
	p = strstr(status, "CapEff:");
	if (!p)
		return -1;
	snprintf(s->status_caps, sizeof(s->status_caps), "%.*s", (int)strcspn(p, "\n"), p);
	p = strstr(status, "NSpid:");
	if (!p)
		return -1;
	snprintf(s->nspid, sizeof(s->nspid), "%.*s\n", (int)strcspn(p, "\n"), p);
	return 0;
}

static int pidns;	/* the child makes a pid namespace with its user namespace, and forks its init */

static int child_fn(void)
{
	struct seen before, after;
	struct utsname u;
	pthread_t th;
	pid_t grand, tid;
	int st;
	char c;

	if (!pidns && (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1))
		return 10;
	if (read(mapped[0], &c, 1) != 1)
		return 11;
	if (getuid() != 0 || getgid() != 0 || (pidns && getpid() != 1))
		return 12;
	if (unshare(CLONE_NEWUTS) || sethostname(HOST, strlen(HOST)))
		return 13;
	grand = fork();
	if (grand == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(getuid() == 0 && ns_owned_by_mine("uts") &&
		      (!pidns || (getpid() == 2 && ns_owned_by_mine("pid"))) ? 0 : 2);
	}
	if (pthread_create(&th, NULL, thread_fn, NULL))
		return 14;
	while (!thread_tid)
		usleep(1000);
	tid = thread_tid;
	if (look(&before))
		return 15;
	if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return 16;
	if (look(&after))
		return 17;
	if (strcmp(before.uid_map, after.uid_map) || strcmp(before.gid_map, after.gid_map)) {
		fprintf(stderr, "maps: uid %s gid %s, were uid %s gid %s\n", after.uid_map, after.gid_map,
			before.uid_map, before.gid_map);
		return 18;
	}
	if (strcmp(before.setgroups, after.setgroups) || strcmp(before.status_caps, after.status_caps)) {
		fprintf(stderr, "setgroups %s / %s, were %s / %s\n", after.setgroups, after.status_caps,
			before.setgroups, before.status_caps);
		return 19;
	}
	if (getuid() != 0 || geteuid() != 0 || getgid() != 0) {
		fprintf(stderr, "ids inside: uid %d euid %d gid %d\n", getuid(), geteuid(), getgid());
		return 20;
	}
	if (strcmp(before.nspid, after.nspid) || (pidns && (getpid() != 1 || !ns_owned_by_mine("pid")))) {
		fprintf(stderr, "pid %d, %s was %s", getpid(), after.nspid, before.nspid);
		return 24;
	}
	if (uname(&u) || strcmp(u.nodename, HOST) || !ns_owned_by_mine("uts")) {
		fprintf(stderr, "hostname %s, or its uts namespace is not owned by its user namespace\n",
			u.nodename);
		return 21;
	}
	if (thread_tid != tid || syscall(SYS_tgkill, getpid(), tid, 0)) {
		fprintf(stderr, "its thread %d is gone\n", tid);
		return 22;
	}
	if (waitpid(grand, &st, 0) != grand || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "the grandchild: status %#x\n", st);
		return 23;
	}
	return 0;
}

static int user_nested_main(int argc, char **argv, int with_pidns)
{
	char c, path[64];
	int st, userfd, i;
	uid_t owner;
	pid_t pid;

	pidns = with_pidns;
	test_init(argc, argv);

	if (pipe(ready) || pipe(go) || pipe(mapped)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0 && !pidns)
		_exit(child_fn());
	if (pid == 0) {
		pid_t init;
		int st;

		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) || write(ready[1], "u", 1) != 1)
			_exit(10);
		init = fork();
		if (init == 0)
			_exit(child_fn());
		if (init < 0 || waitpid(init, &st, 0) != init)
			_exit(9);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 8);
	}
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child could not make its user namespace\n");
		return 1;
	}
	if (ns_map_to_root(pid) || write(mapped[1], "m", 1) != 1) {
		pr_perror("uid_map/setgroups/gid_map");
		return 1;
	}
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not get ready\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	userfd = open(path, O_RDONLY);
	if (userfd < 0 || ioctl(userfd, NS_GET_OWNER_UID, &owner) || owner != getuid()) {
		fail("the child's user namespace is not owned by uid %d any more", getuid());
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (write(go[1], "g", 1) != 1)
			return 1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the child found its user namespace changed (status %#x)", st);
		return 1;
	}
	pass();
	return 0;
}
#endif
