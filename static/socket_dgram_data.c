#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "zdtmtst.h"

const char *test_doc = "A unix datagram receiver bound to an abstract name with datagrams queued from two senders, "
		       "one bound (its name comes with each datagram) and one not; order and senders after C/R";
const char *test_author = "Stasis developers";

static socklen_t abstract(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "zdtm-dgram-data-%d-%s", getpid(), tag);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
}

int main(int argc, char **argv)
{
	struct sockaddr_un ra, sa, from;
	socklen_t rl, sl, fl;
	int r, s1, s2, i, n;
	char buf[64], want[64];

	test_init(argc, argv);

	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	s1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	rl = abstract(&ra, "rcv");
	sl = abstract(&sa, "snd");
	if (r < 0 || s1 < 0 || s2 < 0 || bind(r, (struct sockaddr *)&ra, rl) || bind(s1, (struct sockaddr *)&sa, sl)) {
		pr_perror("socket/bind");
		return 1;
	}
	for (i = 0; i < 6; i++) {
		n = snprintf(buf, sizeof(buf), "datagram %d from sender %d", i, i % 2);
		if (sendto(i % 2 ? s2 : s1, buf, n, 0, (struct sockaddr *)&ra, rl) != n) {
			pr_perror("sendto");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 6; i++) {
		memset(buf, 0, sizeof(buf));
		fl = sizeof(from);
		n = recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		snprintf(want, sizeof(want), "datagram %d from sender %d", i, i % 2);
		if (n < 0 || strcmp(buf, want)) {
			fail("datagram %d is '%s'", i, buf);
			return 1;
		}
		if (i % 2 == 0 && (fl != sl || memcmp(&from, &sa, sl))) {
			fail("datagram %d does not name its bound sender", i);
			return 1;
		}
		if (i % 2 == 1 && fl > sizeof(sa_family_t) && from.sun_path[0] != '\0') {
			fail("datagram %d of the unbound sender comes with a path name", i);
			return 1;
		}
	}
	if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("more datagrams than sent");
		return 1;
	}
	pass();
	return 0;
}
