#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "An ICMP ping socket made by a group that net.ipv4.ping_group_range allows where root's "
		       "group is not: the restore must make it with that group; its owner group and echo id are "
		       "kept and it pings on after C/R";
const char *test_author = "Stasis developers";

#define GID 58467

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(1) };
	struct timeval tv = { 5, 0 };
	char r[64], rep[256];
	struct stat st;
	int fd, n, id;
	socklen_t l = sizeof(a);

	test_init(argc, argv);

	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
	n = snprintf(r, sizeof(r), "%d %d", GID, GID); /* not root's group 0 */
	if (fd < 0 || write(fd, r, n) != n)
		return pr_perror("ping_group_range");
	close(fd);
	if (setegid(GID))
		return pr_perror("setegid");
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0)
		return pr_perror("socket(IPPROTO_ICMP) as group %d", GID);
	if (setegid(0))
		return pr_perror("setegid(0)");
	if (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) >= 0)
		return pr_err("root's group may make ping sockets: nothing to test\n");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&lo, sizeof(lo)) != sizeof(h) ||
	    recv(fd, rep, sizeof(rep), 0) != sizeof(h))
		return pr_perror("echo");
	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return pr_perror("getsockname");
	id = a.sin_port;

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || st.st_gid != GID) {
		fail("the socket's group is %d, expected %d", (int)st.st_gid, GID);
		return 1;
	}
	l = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &l) || a.sin_port != id) {
		fail("echo id %x, expected %x", ntohs(a.sin_port), ntohs(id));
		return 1;
	}
	h.un.echo.sequence = htons(2);
	if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&lo, sizeof(lo)) != sizeof(h) ||
	    recv(fd, rep, sizeof(rep), 0) != sizeof(h) || ((struct icmphdr *)rep)->type != ICMP_ECHOREPLY ||
	    ntohs(((struct icmphdr *)rep)->un.echo.sequence) != 2) {
		fail("echo after C/R");
		return 1;
	}
	pass();
	return 0;
}
