#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>

#include "mnt_util.h"

const char *test_doc = "Content of a tmpfs the test mounts, beyond plain files: a sparse file (1 MiB hole, data at "
		       "both ends), three hard links of one file, a setgid directory with a sticky subdirectory, "
		       "a setuid file, a character device node, a symlink owned by another uid, a file with a set "
		       "modification time, an empty directory, and user. and trusted. extended attributes: after "
		       "C/R each is there as it was (holes, link counts, modes, owners, times, attributes, and "
		       "inode numbers, also after the number of a file removed before)";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

#define HOLE (1 << 20)
#define MTIME 1234567890
#define UVAL "user value"
#define TVAL "trusted value"

static int have_dev = 1, have_trusted = 1;

/* inode numbers: a tmpfs numbers its inodes in the order they are made */
static const char *numbered[] = { "sparse", "links", "links/one", "sgid", "sgid/sticky", "suid", "empty", "sym",
				  "old" };
static ino_t inos[ARRAY_SIZE(numbered)];

static int inos_ok(int before)
{
	struct stat st;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(numbered); i++) {
		if (lstat(numbered[i], &st))
			return pr_perror("lstat %s", numbered[i]);
		if (before)
			inos[i] = st.st_ino;
		else if (inos[i] != st.st_ino) {
			pr_err("%s: inode %lu, was %lu\n", numbered[i], (unsigned long)st.st_ino,
			       (unsigned long)inos[i]);
			return -1;
		}
	}
	return 0;
}

static int sparse_ok(void)
{
	struct stat st;
	char buf[4];
	int fd = open("sparse", O_RDONLY);
	off_t data, hole;

	if (fd < 0 || fstat(fd, &st))
		return pr_perror("sparse");
	data = lseek(fd, 0, SEEK_DATA);
	hole = lseek(fd, 0, SEEK_HOLE);
	if (st.st_size != HOLE + 8192 || data != 0 || hole != 4096 || lseek(fd, 4096, SEEK_DATA) != HOLE + 4096 ||
	    st.st_blocks > 16 || pread(fd, buf, 4, HOLE + 4096) != 4 || memcmp(buf, "tail", 4)) {
		pr_err("sparse: size %lld, %lld blocks, data at %lld, hole at %lld\n", (long long)st.st_size,
		       (long long)st.st_blocks, (long long)data, (long long)hole);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int mode_is(const char *path, mode_t want, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st))
		return pr_perror("lstat %s", path);
	if (st.st_mode != want || st.st_uid != uid || st.st_gid != gid) {
		pr_err("%s: mode %o owner %d:%d, expected %o %d:%d\n", path, st.st_mode, (int)st.st_uid,
		       (int)st.st_gid, want, (int)uid, (int)gid);
		return -1;
	}
	return 0;
}

static int xattr_is(const char *path, const char *name, const char *val)
{
	char buf[64];
	ssize_t n = lgetxattr(path, name, buf, sizeof(buf));

	if (n != (ssize_t)strlen(val) || memcmp(buf, val, n)) {
		pr_perror("%s: %s is %zd bytes", path, name, n);
		return -1;
	}
	return 0;
}

static int check(void)
{
	struct stat a, b, c;

	if (sparse_ok())
		return -1;
	if (stat("links/one", &a) || stat("links/two", &b) || stat("three", &c) || a.st_nlink != 3 ||
	    a.st_ino != b.st_ino || a.st_ino != c.st_ino || mu_get("three", "linked")) {
		pr_err("the hard links\n");
		return -1;
	}
	if (mode_is("sgid", S_IFDIR | 02775, 0, 1000) || mode_is("sgid/sticky", S_IFDIR | 01777, 0, 1000) ||
	    mode_is("suid", S_IFREG | 04755, 0, 0) || mode_is("empty", S_IFDIR | 0700, 0, 0) ||
	    mode_is("sym", S_IFLNK | 0777, 2000, 2001))
		return -1;
	if (have_dev && (mode_is("dev", S_IFCHR | 0640, 0, 0) || stat("dev", &a) || a.st_rdev != makedev(1, 5))) {
		pr_err("the device node\n");
		return -1;
	}
	if (stat("old", &a) || a.st_mtime != MTIME) {
		pr_err("old: mtime %lld\n", (long long)a.st_mtime);
		return -1;
	}
	if (xattr_is("links/one", "user.zdtm", UVAL) || xattr_is("sgid", "user.zdtm.dir", UVAL) ||
	    (have_trusted && xattr_is("suid", "trusted.zdtm", TVAL)))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct timeval tv[2] = { { MTIME, 0 }, { MTIME, 0 } };
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_tmpfs01", dirname, "tmpfs", 0, "mode=0755") || chdir(dirname)) {
		pr_perror("mount %s", dirname);
		return 1;
	}
	fd = open("sparse", O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || pwrite(fd, "head", 4, 0) != 4 || pwrite(fd, "tail", 4, HOLE + 4096) != 4 ||
	    ftruncate(fd, HOLE + 8192) || close(fd)) {
		pr_perror("sparse");
		return 1;
	}
	if (mu_put("removed", "", 0644) || unlink("removed") || mkdir("links", 0755) ||
	    mu_put("links/one", "linked", 0644) || link("links/one", "links/two") ||
	    link("links/one", "three") || mkdir("sgid", 0755) || chown("sgid", 0, 1000) || chmod("sgid", 02775) ||
	    mkdir("sgid/sticky", 0755) || chmod("sgid/sticky", 01777) || mu_put("suid", "x", 0755) ||
	    chmod("suid", 04755) || mkdir("empty", 0700) || symlink("links/one", "sym") ||
	    lchown("sym", 2000, 2001) || mu_put("old", "old", 0644) || utimes("old", tv)) {
		pr_perror("prepare the content");
		return 1;
	}
	if (mknod("dev", S_IFCHR | 0640, makedev(1, 5))) {
		if (errno != EPERM)
			return pr_perror("mknod");
		have_dev = 0;
	}
	if (lsetxattr("links/one", "user.zdtm", UVAL, strlen(UVAL), 0) ||
	    lsetxattr("sgid", "user.zdtm.dir", UVAL, strlen(UVAL), 0)) {
		pr_perror("user xattrs");
		return 1;
	}
	if (lsetxattr("suid", "trusted.zdtm", TVAL, strlen(TVAL), 0)) {
		if (errno != EPERM)
			return pr_perror("trusted xattr");
		have_trusted = 0;
	}
	if (check() || inos_ok(1))
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("the tmpfs content after C/R");
		return 1;
	}
	if (inos_ok(0)) {
		fail("the inode numbers after C/R");
		return 1;
	}
	pass();
	return 0;
}
