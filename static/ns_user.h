#ifndef ZDTM_NS_USER_H
#define ZDTM_NS_USER_H
/*
 * Helpers of the programs whose children make user namespaces: writing a child's maps as its parent, and
 * whether a namespace of this process is owned by its own user namespace.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static inline int ns_write_proc(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (int)strlen(text) ? 0 : -1;
}

/* pid's user namespace maps 0 to our uid and gid, setgroups denied (as an unprivileged parent may) */
static inline int ns_map_to_root(pid_t pid)
{
	char map[64];

	snprintf(map, sizeof(map), "0 %d 1\n", getuid());
	if (ns_write_proc(pid, "uid_map", map) || ns_write_proc(pid, "setgroups", "deny"))
		return -1;
	snprintf(map, sizeof(map), "0 %d 1\n", getgid());
	return ns_write_proc(pid, "gid_map", map);
}

/* this process's namespace of `kind` is owned by its own user namespace */
static inline int ns_owned_by_mine(const char *kind)
{
	char path[64];
	int ns, owner, user = open("/proc/self/ns/user", O_RDONLY), ok = 0;
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	ns = open(path, O_RDONLY);
	if (ns >= 0 && user >= 0) {
		owner = ioctl(ns, NS_GET_USERNS);
		if (owner >= 0) {
			ok = !fstat(owner, &a) && !fstat(user, &b) && a.st_ino == b.st_ino;
			close(owner);
		}
	}
	if (ns >= 0)
		close(ns);
	if (user >= 0)
		close(user);
	return ok;
}
#endif
