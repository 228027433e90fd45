#include <fcntl.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An inotify instance with events queued is refused at dump (the events cannot be read "
		       "without consuming them); the events are still there after the refused dump";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to watch", 1);

int main(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct inotify_event *ev = (struct inotify_event *)buf;
	int fd, wd, f, events = 0;
	ssize_t n;
	char *p;

	test_init(argc, argv);

	if ((f = open(filename, O_CREAT | O_WRONLY, 0644)) < 0) {
		pr_perror("create");
		return 1;
	}
	fd = inotify_init1(IN_NONBLOCK);
	wd = inotify_add_watch(fd, filename, IN_MODIFY);
	if (fd < 0 || wd < 0) {
		pr_perror("inotify");
		return 1;
	}
	if (write(f, "a", 1) != 1 || write(f, "b", 1) != 1) {
		pr_perror("write");
		return 1;
	}
	close(f);

	test_daemon();
	test_waitsig();

	n = read(fd, buf, sizeof(buf));
	for (p = buf; n > 0 && p < buf + n; p += sizeof(*ev) + ev->len) {
		ev = (struct inotify_event *)p;
		if (ev->wd == wd && ev->mask & IN_MODIFY)
			events++;
	}
	if (events < 1) {
		fail("the queued modify events are gone (read returned %zd)", n);
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
