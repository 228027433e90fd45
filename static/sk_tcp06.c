#include "sk_inet.h"

const char *test_doc = "Options of an established IPv4 TCP connection: TCP_CORK (the kernel holds a corked write "
		       "back 200 ms at most: the write before C/R arrives), TCP_NODELAY, keepalive settings, TCP_USER_TIMEOUT, "
		       "TCP_NOTSENT_LOWAT, TCP_CONGESTION, SO_LINGER, SO_KEEPALIVE; the negotiated TCP options "
		       "(timestamps, SACK, window scale) are the same after C/R";
const char *test_author = "Stasis developers";

#define CORKED 100

int main(int argc, char **argv)
{
	int a, b;
	struct tcp_info ti, ti2;
	socklen_t len = sizeof(ti);
	struct linger lg = { 1, 0 }, lg2;
	char cc[16];

	test_init(argc, argv);

	if (sk_pair(AF_INET, "127.0.0.1", &a, &b))
		return pr_perror("pair");
	if (sk_setint(a, IPPROTO_TCP, TCP_CORK, 1) || sk_setint(b, IPPROTO_TCP, TCP_NODELAY, 1) ||
	    sk_setint(a, SOL_SOCKET, SO_KEEPALIVE, 1) || sk_setint(a, IPPROTO_TCP, TCP_KEEPIDLE, 300) ||
	    sk_setint(a, IPPROTO_TCP, TCP_KEEPINTVL, 17) || sk_setint(a, IPPROTO_TCP, TCP_KEEPCNT, 5) ||
	    sk_setint(b, IPPROTO_TCP, TCP_USER_TIMEOUT, 30000) || sk_setint(b, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 100000) ||
	    setsockopt(b, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) || setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return pr_perror("options");
	if (sk_fill(a, 3, 0, CORKED) != CORKED)
		return pr_perror("corked write");
	usleep(50000);
	if (sk_ioctl(a, SIOCOUTQNSD) != CORKED || sk_ioctl(b, SIOCINQ) != 0) {
		pr_err("the corked bytes went out (unsent %d)\n", sk_ioctl(a, SIOCOUTQNSD));
		return 1;
	}
	if (getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return pr_perror("TCP_INFO");

	test_daemon();
	test_waitsig();

	len = sizeof(ti2);
	if (getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti2, &len) || ti2.tcpi_options != ti.tcpi_options ||
	    ti2.tcpi_snd_wscale != ti.tcpi_snd_wscale || ti2.tcpi_rcv_wscale != ti.tcpi_rcv_wscale) {
		fail("TCP options %#x ws %d/%d after C/R, were %#x ws %d/%d", ti2.tcpi_options, ti2.tcpi_snd_wscale,
		     ti2.tcpi_rcv_wscale, ti.tcpi_options, ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale);
		return 1;
	}
	if (sk_getint(a, IPPROTO_TCP, TCP_CORK) != 1 || sk_getint(b, IPPROTO_TCP, TCP_NODELAY) != 1 ||
	    sk_getint(a, SOL_SOCKET, SO_KEEPALIVE) != 1 || sk_getint(a, IPPROTO_TCP, TCP_KEEPIDLE) != 300 ||
	    sk_getint(a, IPPROTO_TCP, TCP_KEEPINTVL) != 17 || sk_getint(a, IPPROTO_TCP, TCP_KEEPCNT) != 5 ||
	    sk_getint(b, IPPROTO_TCP, TCP_USER_TIMEOUT) != 30000 ||
	    sk_getint(b, IPPROTO_TCP, TCP_NOTSENT_LOWAT) != 100000) {
		fail("an option changed after C/R");
		return 1;
	}
	len = sizeof(cc);
	memset(cc, 0, sizeof(cc));
	if (getsockopt(b, IPPROTO_TCP, TCP_CONGESTION, cc, &len) || strcmp(cc, "reno")) {
		fail("TCP_CONGESTION %s", cc);
		return 1;
	}
	len = sizeof(lg2);
	if (getsockopt(a, SOL_SOCKET, SO_LINGER, &lg2, &len) || lg2.l_onoff != 1 || lg2.l_linger != 0) {
		fail("SO_LINGER %d %d", lg2.l_onoff, lg2.l_linger);
		return 1;
	}
	if (sk_expect(b, 3, 0, CORKED) || !sk_empty(b)) {
		fail("the corked bytes");
		return 1;
	}
	if (sk_fill(a, 3, CORKED, CORKED) != CORKED || sk_setint(a, IPPROTO_TCP, TCP_CORK, 0) ||
	    sk_expect(b, 3, CORKED, CORKED)) {
		fail("a corked write after C/R");
		return 1;
	}
	if (sk_roundtrip(a, b, 7)) {
		fail("no traffic after C/R");
		return 1;
	}
	pass();
	return 0;
}
