#include "sk_unix.h"

const char *test_doc = "Unbound unix sockets of the three types, and an unconnected datagram receiver bound to "
		       "an abstract name with datagrams queued by an unbound sender (sendto): after C/R the "
		       "unbound sockets have no name, the datagrams come back with their sizes and the "
		       "(empty) sender address, and the receiver takes new datagrams";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int un[3], rcv, snd, i;
	int types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	char rname[64];
	struct sockaddr_un a;
	socklen_t alen = sk_addr(&a, "@x");

	test_init(argc, argv);

	snprintf(rname, sizeof(rname), "@stasis-sk-unix05-%d", getpid());
	alen = sk_addr(&a, rname);
	for (i = 0; i < 3; i++) {
		un[i] = socket(AF_UNIX, types[i], 0);
		if (un[i] < 0) {
			pr_perror("socket");
			return 1;
		}
	}
	rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
	snd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (rcv < 0 || snd < 0 || sk_bind(rcv, rname)) {
		pr_perror("receiver");
		return 1;
	}
	for (i = 0; i < 5; i++) {
		uint8_t buf[200];

		sk_fill(buf, 1, i * 1000, 100 + i);
		if (sendto(snd, buf, 100 + i, 0, (struct sockaddr *)&a, alen) != 100 + i) {
			pr_perror("sendto");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 3; i++)
		if (sk_type(un[i]) != types[i] || sk_check_name(un[i], 0, "")) {
			fail("unbound socket %d after C/R", i);
			return 1;
		}
	if (sk_check_name(rcv, 0, rname) || sk_check_name(snd, 0, "")) {
		fail("receiver/sender names after C/R");
		return 1;
	}
	for (i = 0; i < 5; i++) {
		struct sockaddr_un from;
		socklen_t flen = sizeof(from);
		uint8_t buf[300], want[300];
		ssize_t n = recvfrom(rcv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);

		sk_fill(want, 1, i * 1000, 100 + i);
		if (n != 100 + i || memcmp(buf, want, n)) {
			fail("datagram %d: %zd bytes", i, n);
			return 1;
		}
		if (flen > offsetof(struct sockaddr_un, sun_path)) {
			fail("datagram %d comes from a named socket (%u)", i, flen);
			return 1;
		}
	}
	if (sk_empty(rcv)) {
		fail("more datagrams than queued");
		return 1;
	}
	if (sendto(snd, "x", 1, 0, (struct sockaddr *)&a, alen) != 1 || recv(rcv, rname, 2, 0) != 1) {
		fail("the receiver does not take a new datagram");
		return 1;
	}
	pass();
	return 0;
}
