#ifndef ZDTM_NS_MNT_NESTED_H
#define ZDTM_NS_MNT_NESTED_H
/*
 * A child's mount namespace of its own (everything made private, as unshare -m does): a tmpfs with a
 * file, a read-only bind of a directory of it; a second child enters it by setns. The including program
 * defines `dirname` (its TEST_OPTION) and calls mnt_nested_main(). ns_mnt_nested00/01,
 * ns_mnt_nested_refused00.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_user.h"

#define MNT_NESTED_USERNS	1	/* the maker makes a user namespace first (mapped by the test) */
#define MNT_NESTED_HOLD_FD	2	/* the maker holds a directory of its tmpfs open */

extern char *dirname;

#define CONTENT "kept in a private tmpfs"

static int ready[2], go[2], mapped[2];
static char top[PATH_MAX], tmp[PATH_MAX + 8], ro[PATH_MAX + 8];

/* mountinfo without ids and devices: point, root, options, propagation, fs type, source, super options */
static int mounts_of(pid_t pid, char *out, size_t len)
{
	char path[64], line[1024];
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), pid ? "/proc/%d/mountinfo" : "/proc/self/mountinfo", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	out[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		int i;

		if (!strstr(line, top))
			continue;
		for (i = 0; i < 3; i++)	/* id, parent, dev */
			p = strchr(p, ' ') + 1;
		if (used + strlen(p) + 1 >= len)
			break;
		strcpy(out + used, p);
		used += strlen(p);
	}
	fclose(f);
	return 0;
}

static int check(const char *who, const char *before, pid_t pid)
{
	char now[8192], buf[PATH_MAX + 64] = "";
	struct statvfs sv;
	int fd;

	if (mounts_of(pid, now, sizeof(now)) || strcmp(now, before)) {
		fprintf(stderr, "%s: mounts now\n%s\nwere\n%s\n", who, now, before);
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s/file", ro);
	fd = open(buf, O_RDONLY);
	memset(buf, 0, sizeof(buf));
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != (int)strlen(CONTENT) || strcmp(buf, CONTENT)) {
		fprintf(stderr, "%s: the file in the read-only bind: %s\n", who, buf);
		return 1;
	}
	close(fd);
	if (statvfs(ro, &sv) || !(sv.f_flag & ST_RDONLY)) {
		fprintf(stderr, "%s: the bind is not read-only\n", who);
		return 1;
	}
	return 0;
}

static int maker(int flags)
{
	char path[PATH_MAX + 64], before[8192], c;
	int fd, held;

	if ((flags & MNT_NESTED_USERNS) &&
	    (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1 || read(mapped[0], &c, 1) != 1))
		return 9;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 10;
	if (mount("nested", tmp, "tmpfs", 0, "size=1m,mode=0755"))
		return 11;
	snprintf(path, sizeof(path), "%s/sub", tmp);
	if (mkdir(path, 0755))
		return 12;
	snprintf(path, sizeof(path), "%s/sub/file", tmp);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || write(fd, CONTENT, strlen(CONTENT)) != (int)strlen(CONTENT))
		return 13;
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", tmp);
	if (mount(path, ro, NULL, MS_BIND, NULL) || mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL))
		return 14;
	held = (flags & MNT_NESTED_HOLD_FD) ? open(path, O_RDONLY) : -1;	/* only this namespace has it */
	if ((flags & MNT_NESTED_HOLD_FD) && held < 0)
		return 18;
	if (mounts_of(0, before, sizeof(before)) || write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return 15;
	if ((flags & MNT_NESTED_USERNS) && getuid() != 0)
		return 17;
	if (held >= 0) {
		struct stat st;

		if (fstat(held, &st) || !S_ISDIR(st.st_mode))
			return 19;
	}
	return check("the maker", before, 0) ? 16 : 0;
}

static int joiner(pid_t maker_pid, int flags)
{
	char path[64], before[8192], c;
	int fd;

	if (flags & MNT_NESTED_USERNS) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", maker_pid);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWUSER))
			return 19;
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", maker_pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNS))
		return 20;
	close(fd);
	if ((flags & MNT_NESTED_USERNS) && (setresgid(0, 0, 0) || setresuid(0, 0, 0)))
		return 24;
	if (chdir(top))
		return 21;
	if (mounts_of(0, before, sizeof(before)) || write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return 22;
	if ((flags & MNT_NESTED_USERNS) && getuid() != 0)
		return 25;
	return check("the joiner", before, 0) ? 23 : 0;
}

/* the whole test: set up, wait for C/R, verify; its exit status */
static int mnt_nested_main(int argc, char **argv, int flags)
{
	char own_before[8192], own_now[8192], c;
	pid_t a, b;
	int st, i;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || !realpath(dirname, top)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp", top);
	snprintf(ro, sizeof(ro), "%s/ro", top);
	if (mkdir(tmp, 0755) || mkdir(ro, 0755) || pipe(ready) || pipe(go) || pipe(mapped)) {
		pr_perror("mkdir/pipe");
		return 1;
	}
	a = fork();
	if (a == 0)
		_exit(maker(flags));
	if ((flags & MNT_NESTED_USERNS) &&
	    (read(ready[0], &c, 1) != 1 || ns_map_to_root(a) || write(mapped[1], "m", 1) != 1)) {
		waitpid(a, &st, 0);
		pr_err("the maker could not make its user namespace (status %#x)\n", st);
		return 1;
	}
	if (read(ready[0], &c, 1) != 1) {
		waitpid(a, &st, 0);
		pr_err("the maker failed (status %#x)\n", st);
		return 1;
	}
	b = fork();
	if (b == 0)
		_exit(joiner(a, flags));
	if (read(ready[0], &c, 1) != 1) {
		waitpid(b, &st, 0);
		pr_err("the joiner failed (status %#x)\n", st);
		return 1;
	}
	if (mounts_of(0, own_before, sizeof(own_before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (mounts_of(0, own_now, sizeof(own_now)) || strcmp(own_now, own_before) || strstr(own_now, "tmpfs nested")) {
		fail("the test's own mounts changed, or it sees the child's:\n%s", own_now);
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (write(go[1], "g", 1) != 1)
			return 1;
	for (i = 0; i < 2; i++) {
		pid_t p = i ? b : a;

		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fail("child %d found its mount namespace changed (status %#x)", p, st);
			return 1;
		}
	}
	pass();
	return 0;
}
#endif
