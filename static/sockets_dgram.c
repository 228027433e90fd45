#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "zdtmtst.h"

const char *test_doc = "Unix datagram sockets bound to files: a receiver with datagrams queued from a sender bound "
		       "to a file of its own and connected to it: after C/R the datagrams come with the sender's "
		       "name, and both still send to each other";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	struct sockaddr_un ra, sa, from;
	char sname[4096], buf[32];
	socklen_t len;
	int r, s, i;

	test_init(argc, argv);

	snprintf(sname, sizeof(sname), "%s.snd", filename);
	if (unix_fill_sock_name(&ra, filename) < 0 || unix_fill_sock_name(&sa, sname) < 0) {
		pr_err("names too long\n");
		return 1;
	}
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || s < 0 || bind(r, (struct sockaddr *)&ra, sizeof(ra)) || bind(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(s, (struct sockaddr *)&ra, sizeof(ra))) {
		pr_perror("socket/bind/connect");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "dgram %d", i);
		if (send(s, buf, strlen(buf), 0) != (ssize_t)strlen(buf)) {
			pr_perror("send");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 3; i++) {
		char want[32];

		snprintf(want, sizeof(want), "dgram %d", i);
		memset(buf, 0, sizeof(buf));
		memset(&from, 0, sizeof(from));
		len = sizeof(from);
		if (recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len) != (ssize_t)strlen(want) ||
		    strcmp(buf, want) || strcmp(from.sun_path, sa.sun_path)) {
			fail("datagram %d: '%s' from '%s'", i, buf, from.sun_path);
			return 1;
		}
	}
	if (send(s, "again", 5, 0) != 5 || recv(r, buf, sizeof(buf), 0) != 5 ||
	    sendto(r, "back", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) != 4 || recv(s, buf, sizeof(buf), 0) != 4) {
		fail("the sockets do not send to each other after C/R");
		return 1;
	}
	pass();
	return 0;
}
