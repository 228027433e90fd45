#include <signal.h>

#include "zdtmtst.h"

const char *test_doc = "A pure CPU loop with no syscalls keeps a computed sequence consistent across C/R "
		       "(two redundant LCG states, cross-checked with an O(log n) jump-ahead)";
const char *test_author = "Stasis developers";

#define MUL 6364136223846793005ULL
#define INC 1442695040888963407ULL
#define SEED 0x853c49e6748fea9bULL

static volatile int stop;
static struct sigaction old_term;

static void term(int sig, siginfo_t *info, void *ctx)
{
	stop = 1;
	if (old_term.sa_flags & SA_SIGINFO)
		old_term.sa_sigaction(sig, info, ctx);
	else if (old_term.sa_handler != SIG_DFL && old_term.sa_handler != SIG_IGN)
		old_term.sa_handler(sig);
}

/* x_n of x' = MUL*x + INC, computed by squaring the affine map (mod 2^64). */
static uint64_t lcg_jump(uint64_t x, uint64_t n)
{
	uint64_t am = 1, ac = 0, m = MUL, c = INC;

	while (n) {
		if (n & 1) {
			am *= m;
			ac = ac * m + c;
		}
		c = (m + 1) * c;
		m *= m;
		n >>= 1;
	}
	return am * x + ac;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {};
	uint64_t x = SEED, y = ~SEED, n = 0, checks = 0;

	test_init(argc, argv);

	sa.sa_sigaction = term;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGTERM, &sa, &old_term)) {
		pr_perror("sigaction");
		return 1;
	}

	test_daemon();

	/* y is kept equal to ~x through a different computation: y' = ~(MUL * ~y + INC). */
	while (!stop) {
		unsigned i;

		for (i = 0; i < (1u << 14); i++) {
			x = x * MUL + INC;
			y = ~(~y * MUL + INC);
			if (x != ~y)
				goto bad_pair;
		}
		n += 1u << 14;
		if (lcg_jump(SEED, n) != x)
			goto bad_jump;
		checks++;
	}

	test_waitsig();
	test_msg("%llu steps, %llu checkpoints\n", (unsigned long long)n, (unsigned long long)checks);
	if (!checks) {
		fail("the loop did not complete a single checkpoint");
		return 1;
	}
	pass();
	return 0;

bad_pair:
	fail("redundant states disagree after %llu steps: %#llx vs ~%#llx", (unsigned long long)n,
	     (unsigned long long)x, (unsigned long long)y);
	return 1;
bad_jump:
	fail("state after %llu steps is %#llx, expected %#llx", (unsigned long long)n, (unsigned long long)x,
	     (unsigned long long)lcg_jump(SEED, n));
	return 1;
}
