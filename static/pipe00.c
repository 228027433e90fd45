#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Pipes between processes with data in flight (more than the default 64K, so the capacity "
		       "set with F_SETPIPE_SZ must be restored first), ends held by several processes, O_NONBLOCK "
		       "on one end; EOF after all writers close";
const char *test_author = "Stasis developers";

#define PIPE_SZ (256 * 1024)
#define INFLIGHT (100 * 1024)
#define NR_KIDS 3

static uint8_t pat(int stream, long off)
{
	return (uint8_t)(stream * 37 + off * 13 + (off >> 9));
}

/*
 * down: parent -> kids, INFLIGHT bytes of stream 1 left unread before C/R; kid 0 reads them after C/R.
 * up:   kids -> parent; every kid writes 4K records before C/R (in flight), the read end is O_NONBLOCK
 *       in the parent (and so in the kids: one file description).
 * go:   parent -> kids: one byte per kid when to go on.
 */
static int down[2], up[2], go[2];
static pid_t kids[NR_KIDS];

struct rec {
	int kid, seq;
	uint8_t data[4096 - 8];
};

static void fill_rec(struct rec *r, int kid, int seq)
{
	unsigned j;

	r->kid = kid;
	r->seq = seq;
	for (j = 0; j < sizeof(r->data); j++)
		r->data[j] = pat(10 + kid, seq * 4096 + j);
}

static void kid_main(int k)
{
	struct rec r;
	uint8_t buf[4096];
	long off = 0;
	int n, fl;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(go[1]);
	close(down[1]);
	fill_rec(&r, k, 0);
	if (write(up[1], &r, sizeof(r)) != sizeof(r))
		_exit(2);
	if (read(go[0], &c, 1) != 1)
		_exit(3);
	/* The read end of "up" is O_NONBLOCK for us too: one description */
	fl = fcntl(up[0], F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK))
		_exit(4);
	fl = fcntl(up[1], F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		_exit(5);
	if (k == 0) {
		/* drain the data the parent left in "down", then EOF */
		while ((n = read(down[0], buf, sizeof(buf))) > 0) {
			int j;

			for (j = 0; j < n; j++)
				if (buf[j] != pat(1, off + j))
					_exit(6);
			off += n;
		}
		if (n < 0 || off != INFLIGHT)
			_exit(7);
	}
	fill_rec(&r, k, 1);
	if (write(up[1], &r, sizeof(r)) != sizeof(r))
		_exit(8);
	_exit(0);
}

static void kill_kids(void)
{
	int k;

	for (k = 0; k < NR_KIDS; k++)
		if (kids[k] > 0)
			kill(kids[k], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	int k, sz, status, got[NR_KIDS][2] = {};
	uint8_t buf[INFLIGHT];
	struct rec r, want;
	long i;
	ssize_t n;

	test_init(argc, argv);

	if (pipe(down) || pipe(up) || pipe(go)) {
		pr_perror("pipe");
		return 1;
	}
	if (fcntl(down[1], F_SETPIPE_SZ, PIPE_SZ) < PIPE_SZ || fcntl(up[1], F_SETPIPE_SZ, PIPE_SZ) < PIPE_SZ) {
		pr_perror("F_SETPIPE_SZ");
		return 1;
	}
	for (i = 0; i < INFLIGHT; i++)
		buf[i] = pat(1, i);
	/* Fits only with the bigger capacity: the write would block otherwise */
	if (fcntl(down[1], F_SETFL, O_NONBLOCK) || write(down[1], buf, INFLIGHT) != INFLIGHT ||
	    fcntl(down[1], F_SETFL, 0)) {
		pr_perror("write to down");
		return 1;
	}
	for (k = 0; k < NR_KIDS; k++) {
		kids[k] = fork();
		if (kids[k] < 0) {
			pr_perror("fork");
			kill_kids();
			return 1;
		}
		if (kids[k] == 0)
			kid_main(k);
	}
	close(go[0]);
	close(down[0]);
	close(up[1]);
	if (fcntl(up[0], F_SETFL, O_NONBLOCK)) {
		pr_perror("F_SETFL");
		kill_kids();
		return 1;
	}
	/* wait until the first records are in the pipe, then leave them there */
	for (i = 0;; i++) {
		int avail = 0;

		if (ioctl(up[0], FIONREAD, &avail) == 0 && avail == NR_KIDS * (int)sizeof(r))
			break;
		if (i > 2000) {
			pr_err("the children did not write their first records (%d bytes)\n", avail);
			kill_kids();
			return 1;
		}
		usleep(5000);
	}

	test_daemon();
	test_waitsig();

	for (k = 0; k < 2; k++) {
		int fd = k ? up[0] : down[1], avail = -1;
		int want_avail = k ? NR_KIDS * (int)sizeof(r) : INFLIGHT;
		int want_fl = k ? O_NONBLOCK : 0;

		sz = fcntl(fd, F_GETPIPE_SZ);
		if (sz != PIPE_SZ) {
			fail("pipe %s: capacity %d after C/R, expected %d", k ? "up" : "down", sz, PIPE_SZ);
			goto err;
		}
		if (ioctl(fd, FIONREAD, &avail) || avail != want_avail) {
			fail("pipe %s: %d bytes in flight after C/R, expected %d", k ? "up" : "down", avail, want_avail);
			goto err;
		}
		if ((fcntl(fd, F_GETFL) & O_NONBLOCK) != want_fl) {
			fail("pipe %s: flags %#x after C/R, O_NONBLOCK expected %s", k ? "up" : "down",
			     fcntl(fd, F_GETFL), want_fl ? "set" : "clear");
			goto err;
		}
	}
	/* The records in flight, then nothing (EAGAIN: the read end is non-blocking) */
	for (k = 0; k < NR_KIDS; k++) {
		if (read(up[0], &r, sizeof(r)) != sizeof(r)) {
			fail("short read of a record in flight");
			goto err;
		}
		fill_rec(&want, r.kid, r.seq);
		if (r.kid < 0 || r.kid >= NR_KIDS || r.seq != 0 || memcmp(&r, &want, sizeof(r)) || got[r.kid][0]++) {
			fail("bad record in flight: kid %d seq %d", r.kid, r.seq);
			goto err;
		}
	}
	n = read(up[0], &r, sizeof(r));
	if (n != -1 || errno != EAGAIN) {
		fail("read from the empty non-blocking pipe: %zd", n);
		goto err;
	}

	/* Let the children go on, then read until EOF: every writer's end must be closed by then */
	if (write(go[1], "gggg", NR_KIDS) != NR_KIDS) {
		fail("write to go");
		goto err;
	}
	close(go[1]);
	close(down[1]);
	while (1) {
		struct pollfd pfd = { .fd = up[0], .events = POLLIN };

		if (poll(&pfd, 1, 10000) != 1) {
			fail("no data and no EOF on the up pipe");
			goto err;
		}
		n = read(up[0], &r, sizeof(r));
		if (n == 0)
			break;
		if (n != sizeof(r)) {
			fail("read %zd from up", n);
			goto err;
		}
		fill_rec(&want, r.kid, r.seq);
		if (r.kid < 0 || r.kid >= NR_KIDS || r.seq != 1 || memcmp(&r, &want, sizeof(r)) || got[r.kid][1]++) {
			fail("bad record after C/R: kid %d seq %d", r.kid, r.seq);
			goto err;
		}
	}
	for (k = 0; k < NR_KIDS; k++) {
		if (waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d exit status %#x (see kid_main for the codes)", kids[k], status);
			goto err;
		}
		kids[k] = 0;
		if (got[k][1] != 1) {
			fail("child %d's record after C/R is missing", k);
			goto err;
		}
	}
	pass();
	return 0;
err:
	kill_kids();
	return 1;
}
