#include "zdtmtst.h"

const char *test_doc = "Busy counter in memory with invariants (running sum and a hash chain) checked on every step";
const char *test_author = "Stasis developers";

struct state {
	uint64_t n;    /* steps done */
	uint64_t sum;  /* 1 + 2 + ... + n */
	uint64_t hash; /* chain over all n values */
	uint64_t check; /* hash of the three fields above */
};

static volatile struct state st;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t seal(uint64_t n, uint64_t sum, uint64_t hash)
{
	return mix(mix(mix(0x2545f4914f6cdd1dULL, n), sum), hash);
}

int main(int argc, char **argv)
{
	uint64_t n, sum, hash, h_shadow = 1;

	test_init(argc, argv);

	st.n = 0;
	st.sum = 0;
	st.hash = 1;
	st.check = seal(0, 0, 1);

	test_daemon();

	while (test_go()) {
		n = st.n;
		sum = st.sum;
		hash = st.hash;
		if (st.check != seal(n, sum, hash) || sum != n * (n + 1) / 2 || hash != h_shadow) {
			fail("invariant broken at step %llu: sum %llu hash %#llx check %#llx", (unsigned long long)n,
			     (unsigned long long)sum, (unsigned long long)hash, (unsigned long long)st.check);
			return 1;
		}
		n++;
		sum += n;
		hash = mix(hash, n);
		h_shadow = mix(h_shadow, n); /* the same chain, kept in a register */
		st.n = n;
		st.sum = sum;
		st.hash = hash;
		st.check = seal(n, sum, hash);
	}

	test_msg("%llu steps\n", (unsigned long long)st.n);
	if (st.n == 0 || st.check != seal(st.n, st.sum, st.hash) || st.sum != st.n * (st.n + 1) / 2) {
		fail("final state inconsistent (n %llu)", (unsigned long long)st.n);
		return 1;
	}
	pass();
	return 0;
}
