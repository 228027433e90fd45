/* Helpers for the mnt_* programs: files with content, mount points, mountinfo lines */
#ifndef ZDTM_STATIC_MNT_UTIL_H
#define ZDTM_STATIC_MNT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

/* Write @text into @path (created with @mode, truncated) */
static inline int mu_put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd))
		return pr_perror("write %s", path);
	return 0;
}

/* @path holds exactly @text */
static inline int mu_get(const char *path, const char *text)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		pr_perror("read %s", path);
		return -1;
	}
	buf[n] = 0;
	if (strcmp(buf, text)) {
		pr_err("%s holds \"%s\", not \"%s\"\n", path, buf, text);
		return -1;
	}
	return 0;
}

/* The id of the mount @path is on (-1: missing) */
static inline long long mu_mnt_id(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &sx) || !(sx.stx_mask & STATX_MNT_ID))
		return -1;
	return (long long)sx.stx_mnt_id;
}

/* 1: @path is the root of a mount (another mount than its parent's), 0: not, -1: missing */
static inline int mu_mounted(const char *path)
{
	char up[PATH_MAX + 4];
	long long a, b;

	snprintf(up, sizeof(up), "%s/..", path);
	a = mu_mnt_id(path);
	b = mu_mnt_id(up);
	if (a < 0 || b < 0)
		return -1;
	return a != b;
}

static inline int mu_expect(const char *path, int want)
{
	int got = mu_mounted(path);

	if (got != want) {
		pr_err("%s is %s, expected %s\n", path,
		       got < 0 ? "missing" : got ? "a mount point" : "not a mount point",
		       want ? "a mount point" : "not a mount point");
		return -1;
	}
	return 0;
}

/* The same file (device and inode) */
static inline int mu_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return pr_perror("stat %s %s", a, b);
	if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino) {
		pr_err("%s and %s are different files\n", a, b);
		return -1;
	}
	return 0;
}

/* A mountinfo line split into the fields the programs look at */
struct mu_info {
	int id, parent;
	char root[PATH_MAX], point[PATH_MAX];
	char opts[256];   /* per-mount options */
	char tags[256];   /* optional fields: shared:N master:N unbindable ... (space separated) */
	char fstype[64], source[256];
	char super[512];  /* super block options */
};

/* The mountinfo line of the topmost mount at @path (an absolute path as the process sees it) */
static inline int mu_info(const char *path, struct mu_info *out)
{
	char line[4096], abs[PATH_MAX];
	int found = 0;
	FILE *f;

	if (!realpath(path, abs))
		return pr_perror("realpath %s", path);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return pr_perror("mountinfo");
	while (fgets(line, sizeof(line), f)) {
		struct mu_info m;
		char *sep = strstr(line, " - "), *p;
		int n;

		if (!sep)
			continue;
		*sep = 0;
		memset(&m, 0, sizeof(m));
		if (sscanf(line, "%d %d %*s %4095s %4095s %255s%n", &m.id, &m.parent, m.root, m.point, m.opts, &n) < 5)
			continue;
		p = line + n;
		while (*p == ' ')
			p++;
		snprintf(m.tags, sizeof(m.tags), "%s", p);
		if (sscanf(sep + 3, "%63s %255s %511s", m.fstype, m.source, m.super) < 2)
			continue;
		if (!strcmp(m.point, abs)) {
			*out = m;
			found = 1;
		}
	}
	fclose(f);
	if (!found) {
		pr_err("no mount at %s\n", abs);
		return -1;
	}
	return 0;
}

/* The number of tag @name ("shared", "master") of the mount at @path: 0 if it has none */
static inline int mu_tag(const char *path, const char *name)
{
	struct mu_info m;
	char *p;
	size_t len = strlen(name);

	if (mu_info(path, &m))
		return -1;
	for (p = m.tags; (p = strstr(p, name)); p += len)
		if ((p == m.tags || p[-1] == ' ') && p[len] == ':')
			return atoi(p + len + 1);
	return 0;
}

/* Does a comma-separated option list hold @opt exactly */
static inline int mu_has_opt(const char *list, const char *opt)
{
	size_t len = strlen(opt);
	const char *p;

	for (p = list; (p = strstr(p, opt)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == 0))
			return 1;
	return 0;
}

#endif
