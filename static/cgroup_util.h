#ifndef ZDTM_CGROUP_UTIL_H
#define ZDTM_CGROUP_UTIL_H
/*
 * cgroup helpers of the cgroup tests: a hierarchy is named as in /proc/self/cgroup ("" is cgroup v2,
 * "pids", "cpu,cpuacct", "name=systemd"), found through /proc/self/mountinfo on pure v2 and hybrid hosts.
 * Directories a test makes are listed in the harness's cgroups.cleanup (removed after the item if the test
 * could not) or cgroups.between (also removed after each dump, for restore to make them again); "FILE VALUE"
 * lines of cgroups.set are written by the harness after each dump (zdtm/cycle.py).
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "zdtmtst.h"

/* The mount point of hierarchy `name`, into mnt; 0 or -1 if the test sees no mount of it */
static inline int cg_mount(const char *name, char *mnt, size_t len)
{
	char line[4096], point[PATH_MAX], fstype[64], sopts[1024], want[256], *sep, *tok, *save;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep, " - %63s %*s %1023s", fstype, sopts) != 2)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		if (!name[0]) {
			if (strcmp(fstype, "cgroup2"))
				continue;
		} else {
			int all = 1;

			if (strcmp(fstype, "cgroup"))
				continue;
			snprintf(want, sizeof(want), "%s", name);
			for (tok = strtok_r(want, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				char pat[300], opts[1030];

				snprintf(pat, sizeof(pat), ",%s,", tok);
				snprintf(opts, sizeof(opts), ",%s,", sopts);
				if (!strstr(opts, pat))
					all = 0;
			}
			if (!all)
				continue;
		}
		snprintf(mnt, len, "%s", point);
		found = 0;
	}
	fclose(f);
	return found;
}

/* The path of hierarchy `name` in a /proc/.../cgroup file */
static inline int cg_path_of(const char *file, const char *name, char *buf, size_t len)
{
	char line[PATH_MAX + 256], *c, *p;
	FILE *f = fopen(file, "r");
	int ret = -1;

	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		c = strchr(line, ':');
		p = c ? strchr(c + 1, ':') : NULL;
		if (!p)
			continue;
		*p = 0;
		if (strcmp(c + 1, name))
			continue;
		snprintf(buf, len, "%s", p + 1);
		ret = 0;
	}
	fclose(f);
	return ret;
}

static inline int cg_path(const char *name, char *buf, size_t len)
{
	return cg_path_of("/proc/self/cgroup", name, buf, len);
}

static inline int cg_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX * 2];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (int)strlen(val) ? 0 : -1;
}

/* The first line of dir/file, without its newline */
static inline int cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX * 2];
	FILE *f;
	int ret = -1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

static inline int cg_move(const char *dir, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", pid);
	return cg_write(dir, "cgroup.procs", val);
}

/* Append dir to the harness's list (cgroups.cleanup or cgroups.between, in the test's cwd) */
static inline int cg_list(const char *listing, const char *dir)
{
	FILE *f = fopen(listing, "a");

	if (!f)
		return pr_perror("open %s", listing);
	fprintf(f, "%s\n", dir);
	fclose(f);
	return 0;
}

/*
 * Make a cgroup named after the test below the test's cgroup of hierarchy `name`: its full path (dir),
 * its path in the hierarchy (rel) and the mount point (mnt). Every item has its own pid namespace, so the
 * time tells concurrent runs apart. 1 if the hierarchy is not there (skip), -1 on error.
 */
static inline int cg_make(const char *name, const char *tag, const char *listing, char *mnt, char *rel,
			  char *dir, size_t len)
{
	char cur[PATH_MAX];
	struct timespec ts;
	int n;

	if (cg_mount(name, mnt, len) || cg_path(name, cur, sizeof(cur)))
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(rel, len, "%s/zdtm-%.32s-%d-%lx%lx", strcmp(cur, "/") ? cur : "", tag, getpid(),
		     (long)ts.tv_sec, ts.tv_nsec);
	if (n < 0 || (size_t)n >= len)
		return pr_err("cgroup path too long\n");
	n = snprintf(dir, len, "%s%s", mnt, rel);
	if (n < 0 || (size_t)n >= len)
		return pr_err("cgroup path too long\n");
	if (mkdir(dir, 0755))
		return pr_perror("mkdir %s", dir);
	if (cg_list(listing, dir)) {
		rmdir(dir);
		return -1;
	}
	return 0;
}

#endif
