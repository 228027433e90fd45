#include "sk_unix.h"

const char *test_doc = "A unix stream socketpair in one process with data queued in both directions (written "
		       "in pieces): every byte comes back in order after C/R, nothing more, the pair still "
		       "carries data both ways, and SO_PEERCRED still gives this process's pid";
const char *test_author = "Stasis developers";

#define A2B (100 * 1000)
#define B2A 777

int main(int argc, char **argv)
{
	int sk[2], i;
	long off;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk)) {
		pr_perror("socketpair");
		return 1;
	}
	for (off = 0; off < A2B; off += 10000)
		if (sk_send(sk[0], 1, off, 10000)) {
			pr_perror("send a->b");
			return 1;
		}
	for (i = 0; i < 7; i++)
		if (sk_send(sk[1], 2, i * 111, 111)) {
			pr_perror("send b->a");
			return 1;
		}

	test_daemon();
	test_waitsig();

	if (sk_recv_stream(sk[1], 1, 0, A2B) || sk_empty(sk[1])) {
		fail("the a->b queue after C/R");
		return 1;
	}
	if (sk_recv_stream(sk[0], 2, 0, B2A) || sk_empty(sk[0])) {
		fail("the b->a queue after C/R");
		return 1;
	}
	if (sk_send(sk[0], 3, 0, 5000) || sk_recv_stream(sk[1], 3, 0, 5000) || sk_send(sk[1], 4, 0, 3) ||
	    sk_recv_stream(sk[0], 4, 0, 3)) {
		fail("the pair does not carry new data both ways");
		return 1;
	}
	if (sk_peer_pid(sk[0]) != getpid() || sk_peer_pid(sk[1]) != getpid()) {
		fail("SO_PEERCRED pids %d %d after C/R, expected %d", sk_peer_pid(sk[0]), sk_peer_pid(sk[1]), getpid());
		return 1;
	}
	if (sk_type(sk[0]) != SOCK_STREAM || sk_check_name(sk[0], 0, "") || sk_check_name(sk[1], 1, "")) {
		fail("type or names changed");
		return 1;
	}
	pass();
	return 0;
}
