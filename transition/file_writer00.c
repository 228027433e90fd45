#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Appends numbered records to a file with O_APPEND until SIGTERM; then the file must hold "
		       "every record exactly once, in order, with no gap";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to append to", 1);

#define REC_LEN 32

static uint32_t rec_sum(uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(h ^ (h >> 29));
}

static void make_rec(char *buf, uint64_t seq)
{
	/* 20 + 1 + 8 + 1 + 1 + '\n' = 32 bytes */
	snprintf(buf, REC_LEN + 1, "%020llu %08x .\n", (unsigned long long)seq, rec_sum(seq));
}

int main(int argc, char **argv)
{
	char rec[REC_LEN + 1], got[REC_LEN + 1];
	struct timespec pause = { 0, 1000000 };
	uint64_t seq = 0, i;
	struct stat stt;
	off_t size;
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		pr_perror("open %s", filename);
		return 1;
	}

	test_daemon();

	while (test_go()) {
		ssize_t ret;

		make_rec(rec, seq);
		ret = write(fd, rec, REC_LEN);
		if (ret != REC_LEN) {
			fail("write of record %llu returned %zd", (unsigned long long)seq, ret);
			return 1;
		}
		seq++;
		/* The O_APPEND position must always be the end of what we wrote. */
		if (lseek(fd, 0, SEEK_CUR) != (off_t)(seq * REC_LEN)) {
			fail("file position %lld after %llu records", (long long)lseek(fd, 0, SEEK_CUR),
			     (unsigned long long)seq);
			return 1;
		}
		if (seq % 64 == 0)
			nanosleep(&pause, NULL); /* keep the file small */
	}

	if (fstat(fd, &stt)) {
		fail("fstat");
		return 1;
	}
	if (!(fcntl(fd, F_GETFL) & O_APPEND)) {
		fail("O_APPEND is gone from the file flags");
		return 1;
	}
	close(fd);
	size = stt.st_size;
	if (size != (off_t)(seq * REC_LEN)) {
		fail("file size %lld, expected %llu records of %d bytes", (long long)size, (unsigned long long)seq,
		     REC_LEN);
		return 1;
	}

	fd = open(filename, O_RDONLY);
	if (fd < 0) {
		fail("reopen %s", filename);
		return 1;
	}
	for (i = 0; i < seq; i++) {
		if (read(fd, got, REC_LEN) != REC_LEN) {
			fail("short read at record %llu", (unsigned long long)i);
			return 1;
		}
		make_rec(rec, i);
		if (memcmp(got, rec, REC_LEN)) {
			got[REC_LEN - 1] = 0;
			fail("record %llu is \"%s\"", (unsigned long long)i, got);
			return 1;
		}
	}
	if (read(fd, got, 1) != 0) {
		fail("data after the last record");
		return 1;
	}
	close(fd);

	test_msg("%llu records\n", (unsigned long long)seq);
	if (!seq) {
		fail("no record written");
		return 1;
	}
	pass();
	return 0;
}
