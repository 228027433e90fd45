#include <fcntl.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "inotify watches on a directory and a file keep their numbers and masks across C/R (a "
		       "removed watch leaves its number unused) and report new events on the same inodes";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory to watch", 1);

/* one event at a time, from what read() returned (it may return several at once) */
static char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
static ssize_t evlen, evpos;

static int read_event(int fd, int wd, uint32_t mask, const char *name)
{
	struct inotify_event *ev;

	if (evpos >= evlen) {
		evlen = read(fd, evbuf, sizeof(evbuf));
		evpos = 0;
		if (evlen < (ssize_t)sizeof(*ev)) {
			pr_perror("read inotify (got %zd)", evlen);
			evlen = 0;
			return -1;
		}
	}
	ev = (struct inotify_event *)(evbuf + evpos);
	evpos += sizeof(*ev) + ev->len;
	if (ev->wd != wd || !(ev->mask & mask) || (name && strcmp(ev->name, name))) {
		pr_err("event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'\n", ev->wd, ev->mask,
		       ev->len ? ev->name : "", wd, mask, name ? name : "");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char file[PATH_MAX], gone[PATH_MAX], before[4096], after[4096];
	int fd, wd_dir, wd_gone, wd_file, f, n;

	test_init(argc, argv);

	if (mkdir(dirname, 0755)) {
		pr_perror("mkdir");
		return 1;
	}
	snprintf(file, sizeof(file), "%s/file", dirname);
	snprintf(gone, sizeof(gone), "%s/gone", dirname);
	if ((f = open(file, O_CREAT | O_WRONLY, 0644)) < 0 || close(f) || (f = open(gone, O_CREAT | O_WRONLY, 0644)) < 0 ||
	    close(f)) {
		pr_perror("create");
		return 1;
	}
	fd = inotify_init1(IN_NONBLOCK);
	if (fd < 0) {
		pr_perror("inotify_init1");
		return 1;
	}
	wd_dir = inotify_add_watch(fd, dirname, IN_CREATE | IN_DELETE | IN_ONLYDIR);
	wd_gone = inotify_add_watch(fd, gone, IN_MODIFY);
	wd_file = inotify_add_watch(fd, file, IN_MODIFY | IN_CLOSE_WRITE);
	if (wd_dir < 0 || wd_gone < 0 || wd_file < 0 || inotify_rm_watch(fd, wd_gone)) {
		pr_perror("inotify_add_watch/rm_watch");
		return 1;
	}
	/* the removal queued an IN_IGNORED for wd_gone: take it, so nothing is queued */
	if (read_event(fd, wd_gone, IN_IGNORED, NULL))
		return 1;
	snprintf(before, sizeof(before), "/proc/self/fdinfo/%d", fd);
	f = open(before, O_RDONLY);
	n = read(f, before, sizeof(before) - 1);
	close(f);
	before[n > 0 ? n : 0] = 0;

	test_daemon();
	test_waitsig();

	snprintf(after, sizeof(after), "/proc/self/fdinfo/%d", fd);
	f = open(after, O_RDONLY);
	n = read(f, after, sizeof(after) - 1);
	close(f);
	after[n > 0 ? n : 0] = 0;
	if (strcmp(strstr(before, "inotify"), strstr(after, "inotify"))) {
		fail("watches differ after C/R:\n%s\nvs\n%s", strstr(before, "inotify"), strstr(after, "inotify"));
		return 1;
	}
	if ((f = open(file, O_WRONLY)) < 0 || write(f, "x", 1) != 1 || close(f)) {
		pr_perror("write file");
		return 1;
	}
	if (read_event(fd, wd_file, IN_MODIFY, NULL) || read_event(fd, wd_file, IN_CLOSE_WRITE, NULL)) {
		fail("no modify/close event for the watched file");
		return 1;
	}
	snprintf(gone, sizeof(gone), "%s/new", dirname);
	if ((f = open(gone, O_CREAT | O_WRONLY, 0644)) < 0 || close(f)) {
		pr_perror("create new");
		return 1;
	}
	if (read_event(fd, wd_dir, IN_CREATE, "new")) {
		fail("no create event in the watched directory");
		return 1;
	}
	/* a new watch gets the number after the highest ever given: 4 */
	n = inotify_add_watch(fd, gone, IN_ATTRIB);
	if (n != wd_file + 1) {
		fail("a new watch has number %d, expected %d", n, wd_file + 1);
		return 1;
	}
	unlink(gone);
	snprintf(gone, sizeof(gone), "%s/gone", dirname);
	unlink(gone);
	unlink(file);
	rmdir(dirname);
	pass();
	return 0;
}
