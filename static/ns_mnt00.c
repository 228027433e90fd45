#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "The test's own mount namespace (unshare CLONE_NEWNS, everything private) with a tmpfs "
		       "of its own holding a file: after C/R the namespace (/proc/self/ns/mnt inode), the mount "
		       "and the file are the same, and the mount is not in the outer namespace";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

#define TEXT "in the private tmpfs\n"

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], buf[128], outer_ns[64];
	struct stat st_dir, st_mnt, st;
	ino_t outer, mine, now;
	int fd, ret = 1;
	ssize_t n;

	test_init(argc, argv);

	ssprintf(path, "%s/file", dirname);
	ssprintf(outer_ns, "/proc/%d/ns/mnt", getppid());
	if (mkdir(dirname, 0755) || stat(dirname, &st_dir)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	if (ns_ino("/proc/self/ns/mnt", &outer))
		goto out;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		pr_perror("unshare(CLONE_NEWNS)/make-rprivate");
		goto out;
	}
	if (ns_ino("/proc/self/ns/mnt", &mine))
		goto out;
	if (mine == outer) {
		pr_err("unshare(CLONE_NEWNS) left the test in its namespace\n");
		goto out;
	}
	if (mount("zdtm_ns_mnt00", dirname, "tmpfs", 0, "size=1m,mode=0751")) {
		pr_perror("mount tmpfs");
		goto out;
	}
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || write(fd, TEXT, strlen(TEXT)) != strlen(TEXT) || close(fd) || stat(dirname, &st_mnt)) {
		pr_perror("create %s", path);
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/mnt", &now))
		goto out;
	if (now != mine) {
		errno = 0;
		fail("the mount namespace is %lu after C/R, was %lu (now in %s)", (unsigned long)now, (unsigned long)mine,
		     now == outer ? "the outer one" : "yet another one");
		goto out;
	}
	if (stat(dirname, &st) || st.st_dev != st_mnt.st_dev || st.st_ino != st_mnt.st_ino ||
	    (st.st_mode & 07777) != 0751) {
		fail("%s is not the tmpfs after C/R (dev %#lx, was %#lx; mode %o)", dirname, (long)st.st_dev,
		     (long)st_mnt.st_dev, st.st_mode & 07777);
		goto out;
	}
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n < 0 || (buf[n] = 0, strcmp(buf, TEXT))) {
		fail("%s after C/R: %zd bytes", path, n);
		goto out;
	}
	close(fd);
	pass();
	ret = 0;
out:
	/* the mount dies with the namespace; the directory is in the outer one too */
	unlink(path);
	umount2(dirname, MNT_DETACH);
	rmdir(dirname);
	return ret;
}
