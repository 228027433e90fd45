#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "zdtmtst.h"

/*
 * sk-freebind: TCP and UDP sockets of both families with IP_FREEBIND/IPV6_FREEBIND set, bound to addresses
 * no interface has. sk-freebind-false (-DZDTM_FREEBIND_FALSE): the same binds, then the option cleared: the
 * sockets stay bound to the foreign addresses with the option off.
 */
const char *test_doc = "Sockets bound to non-local addresses with IP_FREEBIND / IPV6_FREEBIND (cleared after the "
		       "bind when built with ZDTM_FREEBIND_FALSE): address, port and option after C/R";
const char *test_author = "Stasis developers";

#ifdef ZDTM_FREEBIND_FALSE
#define WANT 0
#else
#define WANT 1
#endif

struct fb {
	int family, type, fd;
	const char *addr;
	int port;
};

static struct fb sks[] = {
	{ AF_INET, SOCK_STREAM, -1, "198.51.100.7", 9101 },
	{ AF_INET, SOCK_DGRAM, -1, "198.51.100.8", 9102 },
	{ AF_INET6, SOCK_STREAM, -1, "2001:db8::7", 9103 },
	{ AF_INET6, SOCK_DGRAM, -1, "2001:db8::8", 9104 },
};

static socklen_t fill(struct fb *f, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (f->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(f->port);
		inet_pton(AF_INET, f->addr, &a->sin_addr);
		return sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(f->port);
		inet_pton(AF_INET6, f->addr, &a->sin6_addr);
		return sizeof(*a);
	}
}

static int opt(struct fb *f, int *v, int set)
{
	socklen_t len = sizeof(*v);
	int level = f->family == AF_INET ? SOL_IP : SOL_IPV6;
	int name = f->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND;

	return set ? setsockopt(f->fd, level, name, v, len) : getsockopt(f->fd, level, name, v, &len);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage want, got;
	socklen_t len, wl;
	unsigned i;
	int v;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(sks); i++) {
		sks[i].fd = socket(sks[i].family, sks[i].type, 0);
		v = 1;
		if (sks[i].fd < 0 || opt(&sks[i], &v, 1)) {
			pr_perror("socket %u: socket or FREEBIND", i);
			return 1;
		}
		wl = fill(&sks[i], &want);
		if (bind(sks[i].fd, (struct sockaddr *)&want, wl)) {
			pr_perror("socket %u: bind to %s", i, sks[i].addr);
			return 1;
		}
		v = WANT;
		if (opt(&sks[i], &v, 1)) {
			pr_perror("socket %u: FREEBIND %d", i, WANT);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(sks); i++) {
		v = -1;
		if (opt(&sks[i], &v, 0) || v != WANT) {
			fail("socket %u: FREEBIND is %d after C/R, expected %d", i, v, WANT);
			return 1;
		}
		wl = fill(&sks[i], &want);
		len = sizeof(got);
		memset(&got, 0, sizeof(got));
		if (getsockname(sks[i].fd, (struct sockaddr *)&got, &len) || len != wl || memcmp(&got, &want, wl)) {
			fail("socket %u: not bound to %s port %d after C/R", i, sks[i].addr, sks[i].port);
			return 1;
		}
	}
	pass();
	return 0;
}
