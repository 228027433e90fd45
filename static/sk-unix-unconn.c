#include <sys/socket.h>
#include <sys/un.h>

#include "zdtmtst.h"

const char *test_doc = "Unix sockets that are neither bound nor connected (stream, dgram, seqpacket) keep their type "
		       "and unconnected state over C/R and can be connected after it";
const char *test_author = "Stasis developers";

static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };

int main(int argc, char **argv)
{
	int sk[ARRAY_SIZE(types)], type;
	struct sockaddr_un addr;
	socklen_t len;
	unsigned i;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		sk[i] = socket(AF_UNIX, types[i], 0);
		if (sk[i] < 0) {
			pr_perror("socket");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		len = sizeof(type);
		if (getsockopt(sk[i], SOL_SOCKET, SO_TYPE, &type, &len) || type != types[i]) {
			fail("socket %u: type %d, expected %d", i, type, types[i]);
			return 1;
		}
		len = sizeof(addr);
		if (getsockname(sk[i], (struct sockaddr *)&addr, &len) || len != sizeof(sa_family_t)) {
			fail("socket %u: bound after C/R (address length %u)", i, len);
			return 1;
		}
		len = sizeof(addr);
		errno = 0;
		if (getpeername(sk[i], (struct sockaddr *)&addr, &len) != -1 || errno != ENOTCONN) {
			fail("socket %u: connected after C/R", i);
			return 1;
		}
		/* autobind: an abstract name of the kernel's choice, then a listener */
		addr.sun_family = AF_UNIX;
		if (bind(sk[i], (struct sockaddr *)&addr, sizeof(sa_family_t)) ||
		    (types[i] != SOCK_DGRAM && listen(sk[i], 1))) {
			fail("socket %u: bind or listen after C/R", i);
			return 1;
		}
	}
	pass();
	return 0;
}
