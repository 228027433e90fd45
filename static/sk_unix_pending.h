/* Connections not yet accepted, with data (sk_unix18; sk_unix22 dumps it with -R) */
#include "sk_unix.h"

int main(int argc, char **argv)
{
	int lsk, sl, c[3], a, i;
	char name[64], sname[64], cname[64];

	test_init(argc, argv);

	snprintf(name, sizeof(name), "@stasis-%s-%d", PENDING_NAME, getpid());
	snprintf(sname, sizeof(sname), "@stasis-%s-sp-%d", PENDING_NAME, getpid());
	snprintf(cname, sizeof(cname), "@stasis-%s-c-%d", PENDING_NAME, getpid());
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	sl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lsk < 0 || sl < 0 || sk_bind(lsk, name) || listen(lsk, 4) || sk_bind(sl, sname) || listen(sl, 4)) {
		pr_perror("listeners");
		return 1;
	}
	/* 0: bound, wrote 100 bytes; 1: wrote 50 bytes then closed; 2: wrote nothing, SHUT_WR */
	for (i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c[i] < 0 || (i == 0 && sk_bind(c[i], cname)) || sk_connect(c[i], name)) {
			pr_perror("client %d", i);
			return 1;
		}
	}
	if (sk_send(c[0], 1, 0, 100) || sk_send(c[1], 2, 0, 50) || shutdown(c[2], SHUT_WR)) {
		pr_perror("send");
		return 1;
	}
	close(c[1]);
	/* a seqpacket client with two messages */
	i = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (i < 0 || sk_connect(i, sname) || sk_send(i, 3, 0, 10) || sk_send(i, 3, 10, 20)) {
		pr_perror("seqpacket client");
		return 1;
	}
	c[1] = i;

	test_daemon();
	test_waitsig();

	/* accepted in the order they connected, each with its data */
	a = accept(lsk, NULL, NULL);
	if (a < 0 || sk_recv_stream(a, 1, 0, 100) || sk_check_name(a, 1, cname) || sk_send(a, 4, 0, 7) ||
	    sk_recv_stream(c[0], 4, 0, 7) || sk_check_name(c[0], 1, name)) {
		fail("the first pending connection after C/R");
		return 1;
	}
	a = accept(lsk, NULL, NULL);
	if (a < 0 || sk_recv_stream(a, 2, 0, 50) || recv(a, name + 60, 1, 0) != 0) {
		fail("the pending connection of the closed client (data then EOF)");
		return 1;
	}
	a = accept(lsk, NULL, NULL);
	if (a < 0 || recv(a, name + 60, 1, 0) != 0 || sk_send(a, 5, 0, 3) || sk_recv_stream(c[2], 5, 0, 3)) {
		fail("the pending connection of the client that shut down writing");
		return 1;
	}
	set_nonblock(lsk, 1);
	if (accept(lsk, NULL, NULL) >= 0 || errno != EAGAIN) {
		fail("more pending connections than there were");
		return 1;
	}
	a = accept(sl, NULL, NULL);
	if (a < 0 || sk_recv_msg(a, 3, 0, 10, 0) || sk_recv_msg(a, 3, 10, 20, 0) || sk_send(a, 6, 0, 2) ||
	    sk_recv_msg(c[1], 6, 0, 2, 0)) {
		fail("the pending seqpacket connection");
		return 1;
	}
	pass();
	return 0;
}
