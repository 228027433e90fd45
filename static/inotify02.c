#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An inotify instance watching a directory and two files in it with different masks (one "
		       "IN_ONESHOT): after C/R each change makes the event of its watch, with its mask and name, "
		       "and changes outside the masks make none";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

static char evbuf[4096] __attribute__((aligned(8)));
static int evpos, evlen;

/* the next event, from what one read gave or from a new read (a read gives every queued event) */
static struct inotify_event *next_event(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct inotify_event *ev;

	if (evpos >= evlen) {
		if (poll(&pfd, 1, 1000) != 1)
			return NULL;
		evlen = read(fd, evbuf, sizeof(evbuf));
		evpos = 0;
		if (evlen <= 0)
			return NULL;
	}
	ev = (struct inotify_event *)(evbuf + evpos);
	evpos += sizeof(*ev) + ev->len;
	return ev;
}

int main(int argc, char **argv)
{
	char f1[4096], f2[4096], f3[4096], buf[16];
	struct inotify_event *ev;
	int in, wd_dir, wd1, wd2, fd;
	struct pollfd pfd;

	test_init(argc, argv);

	snprintf(f1, sizeof(f1), "%s/one", dirname);
	snprintf(f2, sizeof(f2), "%s/two", dirname);
	snprintf(f3, sizeof(f3), "%s/three", dirname);
	if (mkdir(dirname, 0755) || close(open(f1, O_CREAT | O_WRONLY, 0644)) || close(open(f2, O_CREAT | O_WRONLY, 0644))) {
		pr_perror("setup");
		return 1;
	}
	in = inotify_init1(IN_NONBLOCK);
	wd_dir = inotify_add_watch(in, dirname, IN_CREATE | IN_DELETE);
	wd1 = inotify_add_watch(in, f1, IN_MODIFY);
	wd2 = inotify_add_watch(in, f2, IN_ATTRIB | IN_ONESHOT);
	if (in < 0 || wd_dir < 0 || wd1 < 0 || wd2 < 0) {
		pr_perror("inotify");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* outside the masks: opening and reading f1, writing f2 */
	fd = open(f1, O_RDONLY);
	if (fd < 0 || read(fd, buf, 1) < 0) {
		fail("open");
		return 1;
	}
	close(fd);
	fd = open(f2, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		fail("write two");
		return 1;
	}
	close(fd);
	pfd.fd = in;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 100) != 0) {
		ev = next_event(in);
		fail("an event outside the masks: wd %d mask %#x", ev ? ev->wd : -1, ev ? ev->mask : 0);
		return 1;
	}
	fd = open(f1, O_WRONLY);
	if (fd < 0 || write(fd, "y", 1) != 1 || !(ev = next_event(in)) || ev->wd != wd1 ||
	    !(ev->mask & IN_MODIFY)) {
		fail("no IN_MODIFY of one");
		return 1;
	}
	close(fd);
	if (chmod(f2, 0600) || !(ev = next_event(in)) || ev->wd != wd2 || !(ev->mask & IN_ATTRIB)) {
		fail("no IN_ATTRIB of two");
		return 1;
	}
	/* the one-shot watch is gone after its event: IN_IGNORED, then nothing */
	if (!(ev = next_event(in)) || ev->wd != wd2 || !(ev->mask & IN_IGNORED)) {
		fail("the one-shot watch did not go (%d %#x)", ev ? ev->wd : -1, ev ? ev->mask : 0);
		return 1;
	}
	if (close(open(f3, O_CREAT | O_WRONLY, 0644)) || !(ev = next_event(in)) || ev->wd != wd_dir ||
	    !(ev->mask & IN_CREATE) || strcmp(ev->name, "three")) {
		fail("no IN_CREATE of three in the directory (%d %#x)", ev ? ev->wd : -1, ev ? ev->mask : 0);
		return 1;
	}
	pass();
	return 0;
}
