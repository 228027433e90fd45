#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "zdtmtst.h"

const char *test_doc = "Per-mount flags of mounts the test makes: a read-only bind of its tmpfs, a "
		       "nosuid,nodev,noexec,noatime tmpfs: after C/R statvfs() shows the same flags, writing "
		       "through the read-only bind fails with EROFS while the tmpfs itself stays writable";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

#define RO_FLAGS ST_RDONLY
#define OPT_FLAGS (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME)

static int flags_of(const char *path, unsigned long *f)
{
	struct statvfs s;

	if (statvfs(path, &s))
		return pr_perror("statvfs %s", path);
	*f = s.f_flag & (ST_RDONLY | OPT_FLAGS | ST_RELATIME);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long rw_f, ro_f, opt_f, now;
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("rw", 0755) || mkdir("ro", 0755) || mkdir("opt", 0755) ||
	    mount("zdtm_mnt_flags00", "rw", "tmpfs", 0, NULL) || mount("rw", "ro", NULL, MS_BIND, NULL) ||
	    mount(NULL, "ro", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) ||
	    mount("zdtm_mnt_flags00_opt", "opt", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (flags_of("rw", &rw_f) || flags_of("ro", &ro_f) || flags_of("opt", &opt_f))
		return 1;
	if (!(ro_f & ST_RDONLY) || (opt_f & OPT_FLAGS) != OPT_FLAGS) {
		pr_err("flags not set: ro %#lx opt %#lx\n", ro_f, opt_f);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (flags_of("rw", &now) || now != rw_f) {
		fail("rw flags %#lx after C/R, were %#lx", now, rw_f);
		return 1;
	}
	if (flags_of("ro", &now) || now != ro_f) {
		fail("ro flags %#lx after C/R, were %#lx", now, ro_f);
		return 1;
	}
	if (flags_of("opt", &now) || now != opt_f) {
		fail("opt flags %#lx after C/R, were %#lx", now, opt_f);
		return 1;
	}
	fd = open("ro/x", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0 || errno != EROFS) {
		fail("creating a file through the read-only bind after C/R");
		return 1;
	}
	fd = open("rw/x", O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		fail("creating a file in the tmpfs after C/R");
		return 1;
	}
	close(fd);
	pass();
	return 0;
}
