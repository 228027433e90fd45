#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the memory-corruption kill policy (PR_MCE_KILL_EARLY) survives C/R";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int before, after;

	test_init(argc, argv);

	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0)) {
		pr_perror("PR_MCE_KILL_SET");
		return 1;
	}
	before = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (before != PR_MCE_KILL_EARLY) {
		pr_err("PR_MCE_KILL_GET gives %d right after setting %d\n", before, PR_MCE_KILL_EARLY);
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (after != before) {
		fail("PR_MCE_KILL_GET gives %d, expected %d (PR_MCE_KILL_EARLY)", after, before);
		return 1;
	}
	pass();
	return 0;
}
