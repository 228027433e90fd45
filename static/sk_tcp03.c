#include "sk_inet.h"

const char *test_doc = "IPv6 TCP listeners: [::] with IPV6_V6ONLY and 0.0.0.0 on the same port, a dual-stack "
		       "[::] listener that takes an IPv4 client (an IPv4-mapped connection), one on ::1; after C/R "
		       "names, IPV6_V6ONLY and which listener each family reaches are kept";
const char *test_author = "Stasis developers";

static int reach(int family, const char *host, int port, int l, int stream)
{
	union sk_addr a;
	int c, s;

	sk_addr_set(&a, family, host, port);
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &a.sa, sk_alen(family)))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0 || sk_roundtrip(c, s, stream))
		return -1;
	close(s);
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	int v6only, v4, dual, lo6, one = 1, port;
	union sk_addr a, n_v6only, n_v4, n_dual, n_lo6;

	test_init(argc, argv);

	v6only = socket(AF_INET6, SOCK_STREAM, 0);
	if (v6only < 0 || setsockopt(v6only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		return pr_perror("v6only socket");
	sk_addr_set(&a, AF_INET6, "::", 0);
	if (bind(v6only, &a.sa, sizeof(a.v6)) || listen(v6only, 4) || sk_name(v6only, &n_v6only, 0))
		return pr_perror("v6only listener");
	port = sk_port(&n_v6only);
	v4 = sk_listener(AF_INET, "0.0.0.0", port, 4, 0);
	dual = sk_listener(AF_INET6, "::", 0, 4, 0);
	lo6 = sk_listener(AF_INET6, "::1", 0, 4, 1);
	if (v4 < 0 || dual < 0 || lo6 < 0)
		return pr_perror("listeners");
	if (sk_name(v4, &n_v4, 0) || sk_name(dual, &n_dual, 0) || sk_name(lo6, &n_lo6, 0))
		return pr_perror("names");

	test_daemon();
	test_waitsig();

	if (sk_same_name(v6only, &n_v6only, 0) || sk_same_name(v4, &n_v4, 0) || sk_same_name(dual, &n_dual, 0) ||
	    sk_same_name(lo6, &n_lo6, 0)) {
		fail("a listener has another name after C/R");
		return 1;
	}
	if (sk_getint(v6only, IPPROTO_IPV6, IPV6_V6ONLY) != 1 || sk_getint(dual, IPPROTO_IPV6, IPV6_V6ONLY) != 0) {
		fail("IPV6_V6ONLY %d / %d after C/R", sk_getint(v6only, IPPROTO_IPV6, IPV6_V6ONLY),
		     sk_getint(dual, IPPROTO_IPV6, IPV6_V6ONLY));
		return 1;
	}
	if (reach(AF_INET, "127.0.0.1", port, v4, 20) || reach(AF_INET6, "::1", port, v6only, 22) ||
	    reach(AF_INET, "127.0.0.1", sk_port(&n_dual), dual, 24) ||
	    reach(AF_INET6, "::1", sk_port(&n_dual), dual, 26) || reach(AF_INET6, "::1", sk_port(&n_lo6), lo6, 28)) {
		fail("a listener is not reached as before C/R");
		return 1;
	}
	pass();
	return 0;
}
