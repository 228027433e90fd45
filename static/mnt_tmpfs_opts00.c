#include <sys/statfs.h>

#include "mnt_util.h"

const char *test_doc = "Options of tmpfs mounts the test makes: size=, nr_inodes=, mode=, uid=, gid= on one, "
		       "size= and nr_inodes= on another (with files using part of them): after C/R statfs() shows the same block and inode counts, the roots have their modes and owners, "
		       "mountinfo the same options, and the limits hold (a file past the size fails with ENOSPC, "
		       "an inode past nr_inodes with ENOSPC)";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

struct t {
	const char *path, *opts;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct statfs sf;
	struct mu_info mi;
} ts[] = {
	{ "a", "size=256k,nr_inodes=16,mode=1730,uid=1234,gid=5678", 01730, 1234, 5678 },
	{ "b", "size=64k,nr_inodes=8", 01777, 0, 0 },
};

static int check(int before)
{
	struct statfs sf;
	struct mu_info mi;
	struct stat st;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(ts); i++) {
		struct t *t = &ts[i];

		if (statfs(t->path, &sf) || stat(t->path, &st) || mu_info(t->path, &mi))
			return pr_perror("%s", t->path);
		if ((st.st_mode & 07777) != t->mode || st.st_uid != t->uid || st.st_gid != t->gid) {
			pr_err("%s: root mode %o owner %d:%d\n", t->path, st.st_mode & 07777, (int)st.st_uid,
			       (int)st.st_gid);
			return -1;
		}
		if (before) {
			t->sf = sf;
			t->mi = mi;
			continue;
		}
		if (sf.f_blocks != t->sf.f_blocks || sf.f_files != t->sf.f_files || sf.f_bfree != t->sf.f_bfree ||
		    sf.f_ffree != t->sf.f_ffree) {
			pr_err("%s: %ld blocks (%ld free), %ld inodes (%ld free); were %ld (%ld), %ld (%ld)\n", t->path,
			       (long)sf.f_blocks, (long)sf.f_bfree, (long)sf.f_files, (long)sf.f_ffree,
			       (long)t->sf.f_blocks, (long)t->sf.f_bfree, (long)t->sf.f_files, (long)t->sf.f_ffree);
			return -1;
		}
		if (strcmp(mi.super, t->mi.super) || strcmp(mi.opts, t->mi.opts)) {
			pr_err("%s: options %s / %s, were %s / %s\n", t->path, mi.opts, mi.super, t->mi.opts,
			       t->mi.super);
			return -1;
		}
	}
	return 0;
}

/* fill b until ENOSPC: the size limit, then the inode limit, hold */
static int limits(void)
{
	char buf[4096], p[PATH_MAX];
	int fd, i, n = 0;

	memset(buf, 'x', sizeof(buf));
	fd = open("b/big", O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return pr_perror("b/big");
	while (n < 1000 && write(fd, buf, sizeof(buf)) == sizeof(buf))
		n++;
	close(fd);
	if (n >= 1000 || errno != ENOSPC || n > 16) {
		pr_perror("b: %d pages written before ENOSPC", n);
		return -1;
	}
	unlink("b/big");
	for (i = 0; i < 100; i++) {
		ssprintf(p, "b/f%d", i);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			break;
		close(fd);
	}
	if (i >= 100 || errno != ENOSPC || i > 8) {
		pr_perror("b: %d inodes made before ENOSPC", i);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname))
		return pr_perror("mkdir %s", dirname);
	for (i = 0; i < ARRAY_SIZE(ts); i++)
		if (mkdir(ts[i].path, 0755) || mount("zdtm_mnt_tmpfs_opts00", ts[i].path, "tmpfs", 0, ts[i].opts))
			return pr_perror("mount %s", ts[i].path);
	if (mu_put("a/file", "some content", 0600) || mkdir("a/dir", 0755) || mu_put("b/file", "x", 0644))
		return 1;
	if (check(1))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(0)) {
		fail("the tmpfs mounts after C/R");
		return 1;
	}
	if (limits()) {
		fail("the limits after C/R");
		return 1;
	}
	pass();
	return 0;
}
