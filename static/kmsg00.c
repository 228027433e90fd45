#include <fcntl.h>
#include <limits.h>

#include "zdtmtst.h"

const char *test_doc = "A reader of /dev/kmsg (O_RDONLY|O_NONBLOCK) that has read some records: its next read "
		       "after C/R returns the next record in sequence (its position in the log survives)";
const char *test_author = "Stasis developers";

#define NR_MARKS 6
#define NR_READ 3

/* The sequence number of a record: "prio,seq,ts,flags;text\n" */
static long long rec_seq(const char *rec)
{
	const char *p = strchr(rec, ',');

	return p ? strtoll(p + 1, NULL, 10) : -1;
}

static int read_rec(int fd, char *buf, size_t len, long long *seq)
{
	ssize_t n = read(fd, buf, len - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	*seq = rec_seq(buf);
	return *seq < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char buf[8192], line[128];
	long long seq = -1, last = -1;
	int rfd, wfd, i, nr_ours = 0;

	test_init(argc, argv);

	rfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (rfd < 0) {
		pr_perror("open /dev/kmsg");
		return 1;
	}
	/* past every record there is now, then records of our own */
	if (lseek(rfd, 0, SEEK_END) < 0) {
		pr_perror("lseek SEEK_END");
		return 1;
	}
	wfd = open("/dev/kmsg", O_WRONLY);
	if (wfd < 0) {
		pr_perror("open /dev/kmsg for writing");
		return 1;
	}
	for (i = 0; i < NR_MARKS; i++) {
		int len = ssprintf(line, "<7>zdtm kmsg00[%d]: marker %d\n", getpid(), i);

		if (write(wfd, line, len) != len) {
			pr_perror("write to /dev/kmsg");
			return 1;
		}
	}
	close(wfd);
	for (i = 0; i < NR_READ; i++) {
		if (read_rec(rfd, buf, sizeof(buf), &seq)) {
			pr_perror("read record %d from /dev/kmsg", i);
			return 1;
		}
		if (last >= 0 && seq != last + 1) {
			pr_err("records %lld then %lld: not in sequence\n", last, seq);
			return 1;
		}
		if (strstr(buf, "zdtm kmsg00["))
			nr_ours++;
		last = seq;
	}
	if (!nr_ours) {
		pr_err("none of the first records read is one of our markers\n");
		return 1;
	}
	test_msg("read records up to seq %lld, the next is %lld\n", last, last + 1);

	test_daemon();
	test_waitsig();

	if (read_rec(rfd, buf, sizeof(buf), &seq)) {
		/* EPIPE: our position was overwritten in the ring (or the position is lost) */
		fail("read from /dev/kmsg after C/R (the next record should be seq %lld)", last + 1);
		return 1;
	}
	if (seq != last + 1) {
		errno = 0;
		fail("the next record after C/R is seq %lld, expected %lld: the reader's position is lost", seq,
		     last + 1);
		return 1;
	}
	if ((fcntl(rfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK)) {
		fail("F_GETFL %#x after C/R", fcntl(rfd, F_GETFL));
		return 1;
	}
	pass();
	return 0;
}
