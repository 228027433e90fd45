#include <fcntl.h>
#include <sys/fanotify.h>

#include "zdtmtst.h"

const char *test_doc = "A fanotify group with events queued is refused at dump (they cannot be read without "
		       "consuming them); the events are still there after the refused dump";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to mark", 1);

int main(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *ev;
	int fd, f, events = 0;
	ssize_t n;

	test_init(argc, argv);

	if ((f = open(filename, O_CREAT | O_WRONLY, 0644)) < 0) {
		pr_perror("create");
		return 1;
	}
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, filename)) {
		pr_perror("fanotify");
		return 1;
	}
	if (write(f, "a", 1) != 1) {
		pr_perror("write");
		return 1;
	}
	close(f);

	test_daemon();
	test_waitsig();

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ev = (struct fanotify_event_metadata *)buf; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
			if (ev->mask & FAN_MODIFY)
				events++;
			if (ev->fd >= 0)
				close(ev->fd);
		}
	if (events < 1) {
		fail("the queued modify event is gone");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
