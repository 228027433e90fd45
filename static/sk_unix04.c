#include "sk_unix.h"

const char *test_doc = "Unix stream and seqpacket listeners bound to abstract names, a client bound "
		       "to its own abstract name connected to each, the accepted ends, messages "
		       "queued both ways: names, data, boundaries and new connections after C/R";
const char *test_author = "Stasis developers";

static char lname[2][64], cname[2][64];

int main(int argc, char **argv)
{
	int lsk[2], csk[2], ask[2], i;
	int types[2] = { SOCK_STREAM, SOCK_SEQPACKET };

	test_init(argc, argv);

	for (i = 0; i < 2; i++) {
		snprintf(lname[i], sizeof(lname[i]), "@stasis-sk-unix04-l%d-%d", i, getpid());
		snprintf(cname[i], sizeof(cname[i]), "@stasis-sk-unix04-c%d-%d", i, getpid());
		lsk[i] = socket(AF_UNIX, types[i], 0);
		csk[i] = socket(AF_UNIX, types[i], 0);
		if (lsk[i] < 0 || csk[i] < 0 || sk_bind(lsk[i], lname[i]) || listen(lsk[i], 16) ||
		    sk_bind(csk[i], cname[i]) || sk_connect(csk[i], lname[i])) {
			pr_perror("listener/client %d", i);
			return 1;
		}
		ask[i] = accept(lsk[i], NULL, NULL);
		if (ask[i] < 0) {
			pr_perror("accept");
			return 1;
		}
		if (sk_send(csk[i], 1, 0, 300) || sk_send(csk[i], 1, 300, 2) || sk_send(ask[i], 2, 0, 77)) {
			pr_perror("send");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 2; i++) {
		if (sk_check_name(lsk[i], 0, lname[i]) || sk_check_name(ask[i], 0, lname[i]) ||
		    sk_check_name(ask[i], 1, cname[i]) || sk_check_name(csk[i], 0, cname[i]) ||
		    sk_check_name(csk[i], 1, lname[i])) {
			fail("names of set %d after C/R", i);
			return 1;
		}
		if (i == 0 ? sk_recv_stream(ask[i], 1, 0, 302) :
			     (sk_recv_msg(ask[i], 1, 0, 300, 0) || sk_recv_msg(ask[i], 1, 300, 2, 0))) {
			fail("data for the accepted end of set %d", i);
			return 1;
		}
		if ((i == 0 ? sk_recv_stream(csk[i], 2, 0, 77) : sk_recv_msg(csk[i], 2, 0, 77, 0)) ||
		    sk_empty(csk[i]) || sk_empty(ask[i])) {
			fail("data for the client of set %d", i);
			return 1;
		}
		if (sk_send(csk[i], 3, 0, 9) || sk_send(ask[i], 4, 0, 9)) {
			fail("send after C/R");
			return 1;
		}
		if ((i == 0 ? sk_recv_stream(ask[i], 3, 0, 9) : sk_recv_msg(ask[i], 3, 0, 9, 0)) ||
		    (i == 0 ? sk_recv_stream(csk[i], 4, 0, 9) : sk_recv_msg(csk[i], 4, 0, 9, 0))) {
			fail("new data of set %d", i);
			return 1;
		}
		{
			int c = socket(AF_UNIX, types[i], 0), a;

			if (c < 0 || sk_connect(c, lname[i]) || (a = accept(lsk[i], NULL, NULL)) < 0) {
				fail("listener %d does not accept", i);
				return 1;
			}
			close(a);
			close(c);
		}
	}
	pass();
	return 0;
}
