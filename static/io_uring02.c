#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "uring_common.h"

const char *test_doc = "An idle io_uring with registered files (a memfd, an empty slot, /dev/zero, the read end of "
		       "a pipe with data in flight and no writer) and registered buffers (on an anonymous mapping and "
		       "in .bss): fixed files and buffers work after C/R";
const char *test_author = "Stasis developers";

/*
 * Both ends of one pipe cannot be registered while both are open in the process: fdinfo names both
 * "pipe:[N]" and the engine could not tell which one a slot holds (dump refuses that). So the pipe's
 * write end is closed once the data is in.
 */
#define SLOT_MEMFD 0
#define SLOT_EMPTY 1
#define SLOT_ZERO 2
#define SLOT_PIPE 3
#define BUF_LEN 4096
#define IN_FLIGHT "data in flight in the pipe"

static struct uring r;
static int mfd;
static char bss_buf[2 * BUF_LEN] __attribute__((aligned(4096)));

/*
 * After C/R: the memfd written through both registered buffers (checked with pread), /dev/zero read into
 * buffer 0, the pipe's data in flight read into buffer 1, EOF of the pipe, the empty slot refused. Not
 * before: on this kernel requests on fixed files go to an io-wq worker thread, which stays, and the engine
 * refuses to dump a process with one. Before C/R the ring only runs NOPs and fdinfo is checked.
 */
static int use(char *anon, const char *msg)
{
	size_t n = strlen(msg);
	char back[64] = {};
	int res, i;

	memcpy(anon + 100, msg, n);
	res = uring_one(&r, IORING_OP_WRITE_FIXED, SLOT_MEMFD, IOSQE_FIXED_FILE, anon + 100, n, 0, 0, 1);
	if (res != (int)n || pread(mfd, back, n, 0) != (ssize_t)n || strcmp(back, msg)) {
		pr_err("WRITE_FIXED to the memfd through buffer 0: %d, \"%s\" in the file\n", res, back);
		return -1;
	}
	memset(back, 0, sizeof(back));
	memcpy(bss_buf + BUF_LEN + 7, msg, n);
	res = uring_one(&r, IORING_OP_WRITE_FIXED, SLOT_MEMFD, IOSQE_FIXED_FILE, bss_buf + BUF_LEN + 7, n, 1000, 1, 2);
	if (res != (int)n || pread(mfd, back, n, 1000) != (ssize_t)n || strcmp(back, msg)) {
		pr_err("WRITE_FIXED to the memfd through buffer 1: %d, \"%s\" in the file\n", res, back);
		return -1;
	}
	memset(anon, 0x55, BUF_LEN);
	res = uring_one(&r, IORING_OP_READ_FIXED, SLOT_ZERO, IOSQE_FIXED_FILE, anon, BUF_LEN, 0, 0, 3);
	for (i = 0; i < BUF_LEN && !anon[i]; i++)
		;
	if (res != BUF_LEN || i != BUF_LEN) {
		pr_err("READ_FIXED of /dev/zero into buffer 0: %d, %d zero bytes\n", res, i);
		return -1;
	}
	memset(bss_buf, 0, sizeof(bss_buf));
	res = uring_one(&r, IORING_OP_READ_FIXED, SLOT_PIPE, IOSQE_FIXED_FILE, bss_buf, BUF_LEN, -1, 1, 4);
	if (res != (int)strlen(IN_FLIGHT) || strcmp(bss_buf, IN_FLIGHT)) {
		pr_err("READ_FIXED of the registered pipe: %d \"%s\"\n", res, bss_buf);
		return -1;
	}
	res = uring_one(&r, IORING_OP_READ, SLOT_PIPE, IOSQE_FIXED_FILE, bss_buf, 16, -1, 0, 5);
	if (res != 0) {
		pr_err("the registered pipe has no writer: EOF expected, got %d\n", res);
		return -1;
	}
	res = uring_one(&r, IORING_OP_READ, SLOT_EMPTY, IOSQE_FIXED_FILE, bss_buf, 16, 0, 0, 6);
	if (res != -EBADF) {
		pr_err("the empty slot: %d, not -EBADF\n", res);
		return -1;
	}
	return 0;
}

/* The registered files and buffers as fdinfo of the ring shows them: every line in @want */
static int fdinfo_has(const char *const *want, int n)
{
	static char text[8192];
	char path[64];
	int fd, len, i;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", r.fd);
	fd = open(path, O_RDONLY);
	len = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len < 0)
		return -1;
	text[len] = 0;
	for (i = 0; i < n; i++)
		if (!strstr(text, want[i])) {
			pr_err("fdinfo of the ring lacks \"%s\":\n%s\n", want[i], text);
			return -1;
		}
	return 0;
}

static int check_fdinfo(char *anon, int pipe_rd)
{
	char slot3[64], buf0[64], buf1[64];
	const char *want[] = { "UserFiles:\t4\n", "    0: /memfd:uring-file\\040(deleted)\n", "    2: /dev/zero\n",
			       slot3, "UserBufs:\t2\n", buf0, buf1 };
	struct stat st;

	if (fstat(pipe_rd, &st))
		return -1;
	snprintf(slot3, sizeof(slot3), "    3: pipe:[%lu]\n", (unsigned long)st.st_ino);
	snprintf(buf0, sizeof(buf0), "    0: 0x%lx/%d\n", (unsigned long)anon, BUF_LEN);
	snprintf(buf1, sizeof(buf1), "    1: 0x%lx/%d\n", (unsigned long)bss_buf, (int)sizeof(bss_buf));
	if (fdinfo_has(want, sizeof(want) / sizeof(want[0])))
		return -1;
	/* slot 1 is empty: no line for it */
	{
		const char *one[] = { "    1: /", "    1: pipe" };
		static char text[8192];
		char path[64];
		int fd = -1, len;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", r.fd);
		fd = open(path, O_RDONLY);
		len = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		close(fd);
		if (len < 0)
			return -1;
		text[len] = 0;
		if (strstr(text, one[0]) || strstr(text, one[1])) {
			pr_err("slot 1 is not empty:\n%s\n", text);
			return -1;
		}
	}
	return 0;
}

/* io-wq workers (iou-wrk-N, threads of this process) served what could not complete inline: the engine
 * refuses to dump while they exist (the last one of a ring stays) */
static int no_workers(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	if (n != 1) {
		pr_err("%d threads: an io-wq worker was made (the engine would refuse that instead)\n", n);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], files[4], zero, res;
	struct iovec iov[2];
	unsigned count;
	char *anon;

	test_init(argc, argv);

	if (uring_setup(&r, 4, 0)) {
		pr_perror("io_uring setup");
		return 1;
	}
	zero = open("/dev/zero", O_RDONLY);
	mfd = memfd_create("uring-file", 0);
	if (pipe(p) || zero < 0 || mfd < 0) {
		pr_perror("pipe, /dev/zero or memfd");
		return 1;
	}
	files[SLOT_MEMFD] = mfd;
	files[SLOT_EMPTY] = -1;
	files[SLOT_ZERO] = zero;
	files[SLOT_PIPE] = p[0];
	if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_FILES, files, 4)) {
		pr_perror("IORING_REGISTER_FILES");
		return 1;
	}
	anon = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	iov[0].iov_base = anon;
	iov[0].iov_len = BUF_LEN;
	iov[1].iov_base = bss_buf;
	iov[1].iov_len = sizeof(bss_buf);
	if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_BUFFERS, iov, 2)) {
		pr_perror("IORING_REGISTER_BUFFERS");
		return 1;
	}
	for (res = 0; res < 5; res++)
		if (uring_one(&r, IORING_OP_NOP, -1, 0, NULL, 0, 0, 0, 0x100 + res)) {
			pr_err("NOP %d\n", res);
			return 1;
		}
	if (check_fdinfo(anon, p[0]) || write(p[1], IN_FLIGHT, strlen(IN_FLIGHT)) != strlen(IN_FLIGHT)) {
		pr_perror("write");
		return 1;
	}
	close(p[1]);
	count = *r.sq_tail;
	if (no_workers())
		return 1;

	test_daemon();
	test_waitsig();

	if (!uring_counters_are(&r, count)) {
		fail("counters after C/R: sq %u/%u cq %u/%u, expected %u", *r.sq_head, *r.sq_tail, *r.cq_head,
		     *r.cq_tail, count);
		return 1;
	}
	if (check_fdinfo(anon, p[0]) || use(anon, "after C/R")) {
		fail("registered files or buffers are not as they were after C/R");
		return 1;
	}
	pass();
	return 0;
}
