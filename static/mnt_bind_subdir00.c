#include "mnt_util.h"

const char *test_doc = "Binds of subdirectories of a read-write tmpfs: a read-only bind of a/b, a read-write "
		       "bind of a/b/c inside that read-only bind, and a bind of a/d elsewhere: after C/R "
		       "mountinfo shows each with its root (/a/b, /a/b/c, /a/d) and flags, writes fail with "
		       "EROFS only through the read-only one, and every bind shares its source's files";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int roots_ok(void)
{
	struct mu_info m;

	if (mu_info("ro", &m) || strcmp(m.root, "/a/b") || !mu_has_opt(m.opts, "ro"))
		return pr_err("ro: root %s, options %s\n", m.root, m.opts), -1;
	if (mu_info("ro/c", &m) || strcmp(m.root, "/a/b/c") || !mu_has_opt(m.opts, "rw"))
		return pr_err("ro/c: root %s, options %s\n", m.root, m.opts), -1;
	if (mu_info("d", &m) || strcmp(m.root, "/a/d") || !mu_has_opt(m.opts, "rw"))
		return pr_err("d: root %s, options %s\n", m.root, m.opts), -1;
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) || mkdir("ro", 0755) || mkdir("d", 0755) ||
	    mount("zdtm_mnt_bind_subdir00", "t", "tmpfs", 0, NULL) || mkdir("t/a", 0755) || mkdir("t/a/b", 0755) ||
	    mkdir("t/a/b/c", 0755) || mkdir("t/a/d", 0700) || mu_put("t/a/b/f", "b", 0644) ||
	    mu_put("t/a/b/c/f", "c", 0644) || mu_put("t/a/d/f", "d", 0644) ||
	    mount("t/a/b", "ro", NULL, MS_BIND, NULL) || mount(NULL, "ro", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) ||
	    mount("t/a/b/c", "ro/c", NULL, MS_BIND, NULL) || mount("t/a/d", "d", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (roots_ok())
		return 1;

	test_daemon();
	test_waitsig();

	if (roots_ok()) {
		fail("the binds after C/R");
		return 1;
	}
	if (mu_get("ro/f", "b") || mu_get("ro/c/f", "c") || mu_get("d/f", "d") || mu_same("ro/c", "t/a/b/c")) {
		fail("the content of the binds after C/R");
		return 1;
	}
	fd = open("ro/new", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0 || errno != EROFS) {
		fail("a file created through the read-only bind after C/R");
		return 1;
	}
	if (mu_put("ro/c/new", "c2", 0644) || mu_get("t/a/b/c/new", "c2") || mu_put("d/new", "d2", 0644) ||
	    mu_get("t/a/d/new", "d2") || mu_put("t/a/b/new", "b2", 0644) || mu_get("ro/new", "b2")) {
		fail("the binds do not share their sources' files after C/R");
		return 1;
	}
	pass();
	return 0;
}
