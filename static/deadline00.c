#include <sched.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Check that a SCHED_DEADLINE task (runtime 1 ms, deadline 10 ms, period 20 ms) keeps its "
		       "policy and parameters across C/R";
const char *test_author = "Stasis developers";

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

struct zdtm_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

#define RUNTIME 1000000ULL
#define DEADLINE 10000000ULL
#define PERIOD 20000000ULL

static int get_attr(struct zdtm_sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return syscall(SYS_sched_getattr, 0, a, sizeof(*a), 0);
}

static int expected(const struct zdtm_sched_attr *a)
{
	return a->sched_policy == SCHED_DEADLINE && a->sched_runtime == RUNTIME && a->sched_deadline == DEADLINE &&
	       a->sched_period == PERIOD && a->sched_flags == 0 && a->sched_nice == 0 && a->sched_priority == 0;
}

int main(int argc, char **argv)
{
	struct zdtm_sched_attr attr = { .size = sizeof(attr) }, before, after;

	test_init(argc, argv);

	attr.sched_policy = SCHED_DEADLINE;
	attr.sched_runtime = RUNTIME;
	attr.sched_deadline = DEADLINE;
	attr.sched_period = PERIOD;
	if (syscall(SYS_sched_setattr, 0, &attr, 0)) {
		pr_perror("sched_setattr(SCHED_DEADLINE)");
		return 1;
	}
	if (get_attr(&before) || !expected(&before)) {
		pr_err("sched_getattr right after setting: policy %u runtime %llu deadline %llu period %llu\n",
		       before.sched_policy, (unsigned long long)before.sched_runtime,
		       (unsigned long long)before.sched_deadline, (unsigned long long)before.sched_period);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_attr(&after)) {
		fail("sched_getattr");
		return 1;
	}
	if (!expected(&after) || memcmp(&before, &after, sizeof(before))) {
		fail("sched_getattr: policy %u flags %#llx nice %d prio %u runtime %llu deadline %llu period %llu, "
		     "expected SCHED_DEADLINE %llu/%llu/%llu",
		     after.sched_policy, (unsigned long long)after.sched_flags, after.sched_nice, after.sched_priority,
		     (unsigned long long)after.sched_runtime, (unsigned long long)after.sched_deadline,
		     (unsigned long long)after.sched_period, RUNTIME, DEADLINE, PERIOD);
		return 1;
	}
	if (sched_getscheduler(0) != SCHED_DEADLINE) {
		fail("sched_getscheduler gives %d", sched_getscheduler(0));
		return 1;
	}
	pass();
	return 0;
}
