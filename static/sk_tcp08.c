#include "sk_inet.h"

const char *test_doc = "An established TCP connection without --tcp-established: the dump is refused and the "
		       "tree goes on untouched (the connection still carries data both ways)";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int a, b;

	test_init(argc, argv);

	if (sk_pair(AF_INET, "127.0.0.1", &a, &b))
		return pr_perror("pair");
	if (sk_fill(a, 1, 0, 1000) != 1000)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	if (sk_expect(b, 1, 0, 1000) || sk_roundtrip(a, b, 2)) {
		fail("the connection does not work after the refused dump");
		return 1;
	}
	pass();
	return 0;
}
