#include <sys/inotify.h>

#include "mnt_util.h"

const char *test_doc = "inotify watches on a directory and a file of a tmpfs the test mounts, and on a "
		       "directory of a bind of it: after C/R the watch descriptors are the same, and creating a "
		       "file in the directory, writing the file and removing a file through the bind give the "
		       "events with those descriptors and names";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int expect(int fd, int wd, uint32_t mask, const char *name)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev = (void *)buf;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < (ssize_t)sizeof(*ev)) {
		pr_perror("no event for wd %d", wd);
		return -1;
	}
	if (ev->wd != wd || !(ev->mask & mask) || (name && (!ev->len || strcmp(ev->name, name)))) {
		pr_err("event wd %d mask %x name %s, expected wd %d mask %x name %s\n", ev->wd, ev->mask,
		       ev->len ? ev->name : "", wd, mask, name ? name : "");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, wd_dir, wd_file, wd_bind;
	char c;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) || mkdir("b", 0755) ||
	    mount("zdtm_mnt_inotify00", "t", "tmpfs", 0, NULL) || mkdir("t/d", 0755) || mkdir("t/e", 0755) ||
	    mu_put("t/f", "file", 0644) || mu_put("t/e/victim", "v", 0644) || mount("t", "b", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	fd = inotify_init1(IN_NONBLOCK);
	wd_dir = inotify_add_watch(fd, "t/d", IN_CREATE);
	wd_file = inotify_add_watch(fd, "t/f", IN_MODIFY);
	wd_bind = inotify_add_watch(fd, "b/e", IN_DELETE);
	if (fd < 0 || wd_dir < 0 || wd_file < 0 || wd_bind < 0) {
		pr_perror("inotify");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (read(fd, &c, 1) >= 0 || errno != EAGAIN) {
		fail("events queued after C/R");
		return 1;
	}
	if (mu_put("t/d/new", "", 0644) || expect(fd, wd_dir, IN_CREATE, "new")) {
		fail("the directory watch after C/R");
		return 1;
	}
	if (mu_put("t/f", "more", 0644) || expect(fd, wd_file, IN_MODIFY, NULL)) {
		fail("the file watch after C/R");
		return 1;
	}
	if (unlink("b/e/victim") || expect(fd, wd_bind, IN_DELETE, "victim")) {
		fail("the watch through the bind after C/R");
		return 1;
	}
	pass();
	return 0;
}
