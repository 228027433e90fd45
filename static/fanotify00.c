#include <fcntl.h>
#include <limits.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A fanotify group with an inode mark (and an ignored mask) and a mount mark keeps its "
		       "flags and marks across C/R and reports new events with a valid fd";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to mark", 1);

static int fdinfo(int fd, char *buf, size_t len)
{
	char path[64];
	int f, n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -1;
	n = read(f, buf, len - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char before[4096], after[4096], buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *ev = (struct fanotify_event_metadata *)buf;
	char path[PATH_MAX], link[PATH_MAX], mnt[PATH_MAX - 16], inmnt[PATH_MAX];
	int fd, f, got = 0, got_mnt = 0;
	ssize_t n;

	test_init(argc, argv);

	if ((f = open(filename, O_CREAT | O_WRONLY, 0644)) < 0 || close(f)) {
		pr_perror("create");
		return 1;
	}
	/* a mount of its own for the mount mark: nothing else writes there */
	snprintf(mnt, sizeof(mnt), "%s.mnt", filename);
	snprintf(inmnt, sizeof(inmnt), "%s/f", mnt);
	if (mkdir(mnt, 0755) || mount("zdtm_fanotify", mnt, "tmpfs", 0, NULL)) {
		pr_perror("mount tmpfs");
		return 1;
	}
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	if (fd < 0) {
		pr_perror("fanotify_init");
		return 1;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, filename) ||
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_ACCESS, AT_FDCWD, filename) ||
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_MODIFY, AT_FDCWD, mnt)) {
		pr_perror("fanotify_mark");
		return 1;
	}
	if (fdinfo(fd, before, sizeof(before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (fdinfo(fd, after, sizeof(after)) || strcmp(strstr(before, "fanotify"), strstr(after, "fanotify"))) {
		fail("fanotify group differs after C/R:\n%s\nvs\n%s", strstr(before, "fanotify"),
		     strstr(after, "fanotify"));
		return 1;
	}
	/* drain opens of other processes on the mount, then look for our modify + close-write */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if ((f = open(filename, O_WRONLY)) < 0 || write(f, "x", 1) != 1 || close(f) ||
	    (f = open(inmnt, O_CREAT | O_WRONLY, 0644)) < 0 || write(f, "y", 1) != 1 || close(f)) {
		pr_perror("write");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ev = (struct fanotify_event_metadata *)buf; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
			if (ev->fd >= 0) {
				snprintf(link, sizeof(link), "/proc/self/fd/%d", ev->fd);
				ssize_t l = readlink(link, path, sizeof(path) - 1);

				path[l > 0 ? l : 0] = 0;
				if (strstr(path, inmnt) && ev->mask & FAN_MODIFY)
					got_mnt = 1;
				else if (strstr(path, filename) && ev->mask & (FAN_MODIFY | FAN_CLOSE_WRITE))
					got |= ev->mask & (FAN_MODIFY | FAN_CLOSE_WRITE);
				close(ev->fd);
			}
		}
	}
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	unlink(filename);
	if (got != (FAN_MODIFY | FAN_CLOSE_WRITE) || !got_mnt) {
		fail("events after C/R: %#x for the marked file (expected %#x), %d for the marked mount", got,
		     FAN_MODIFY | FAN_CLOSE_WRITE, got_mnt);
		return 1;
	}
	pass();
	return 0;
}
