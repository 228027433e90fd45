#include "sk_inet.h"

const char *test_doc = "An IPv4 client connected to a dual-stack IPv6 listener: the accepted end is an AF_INET6 "
		       "socket with IPv4-mapped addresses, the client an AF_INET one; data queued both ways "
		       "arrives after C/R, names are kept, the connection goes on";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int c, s;
	union sk_addr cn, cp, sn, sp;

	test_init(argc, argv);

	if (sk_pair_fam(AF_INET6, AF_INET, "::", "127.0.0.1", &c, &s))
		return pr_perror("pair");
	if (sk_fill(c, 1, 0, 5000) != 5000 || sk_fill(s, 2, 0, 7000) != 7000)
		return pr_perror("write");
	if (sk_name(c, &cn, 0) || sk_name(c, &cp, 1) || sk_name(s, &sn, 0) || sk_name(s, &sp, 1))
		return pr_perror("names");
	if (sn.sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sp.v6.sin6_addr)) {
		pr_err("the accepted end is not IPv4-mapped\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_same_name(c, &cn, 0) || sk_same_name(c, &cp, 1) || sk_same_name(s, &sn, 0) ||
	    sk_same_name(s, &sp, 1)) {
		fail("names changed");
		return 1;
	}
	if (sk_expect(s, 1, 0, 5000) || sk_expect(c, 2, 0, 7000) || sk_roundtrip(c, s, 3)) {
		fail("data after C/R");
		return 1;
	}
	pass();
	return 0;
}
