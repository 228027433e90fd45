#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that glibc's rseq registration stays live after C/R: the area's cpu_id follows migrations";
const char *test_author = "Stasis developers";

#ifndef RSEQ_SIG
#define RSEQ_SIG 0x53053053
#endif

static volatile struct rseq *rseq_area(void)
{
	return (volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* The kernel's answer, not glibc's (sched_getcpu() reads the rseq area itself) */
static int real_cpu(void)
{
	unsigned int cpu = ~0u;

	if (syscall(SYS_getcpu, &cpu, NULL, NULL))
		return -1;
	return cpu;
}

/* errno of re-registering the same area: EBUSY means "already registered, with exactly these arguments" */
static int reregister_errno(void)
{
	unsigned int len = __rseq_size < 32 ? 32 : __rseq_size;

	if (syscall(SYS_rseq, rseq_area(), len, 0, RSEQ_SIG) == 0)
		return 0;
	return errno;
}

static int pin_and_check(int cpu, int restored)
{
	cpu_set_t set;
	int i, kcpu = -1, gcpu = -1;
	unsigned int acpu = ~0u, acpu_start = ~0u;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		if (restored)
			fail("sched_setaffinity(cpu %d)", cpu);
		else
			pr_perror("sched_setaffinity(cpu %d)", cpu);
		return 1;
	}
	/* The migration happens before sched_setaffinity returns; give the return-to-user path a few tries */
	for (i = 0; i < 100; i++) {
		kcpu = real_cpu();
		gcpu = sched_getcpu();
		acpu = rseq_area()->cpu_id;
		acpu_start = rseq_area()->cpu_id_start;
		if (kcpu == cpu && gcpu == cpu && acpu == (unsigned int)cpu && acpu_start == (unsigned int)cpu)
			return 0;
		usleep(1000);
	}
	if (restored)
		fail("pinned to cpu %d: getcpu says %d, sched_getcpu %d, rseq cpu_id %u cpu_id_start %u", cpu, kcpu,
		     gcpu, acpu, acpu_start);
	else
		pr_err("pinned to cpu %d: getcpu says %d, sched_getcpu %d, rseq cpu_id %u cpu_id_start %u\n", cpu,
		       kcpu, gcpu, acpu, acpu_start);
	return 1;
}

int main(int argc, char **argv)
{
	cpu_set_t all;
	int e_before, e_after, registered = 1;

	test_init(argc, argv);

	if (__rseq_size == 0 || (int)rseq_area()->cpu_id < 0) {
		skip("glibc did not register rseq (__rseq_size %u, cpu_id %d)", __rseq_size, (int)rseq_area()->cpu_id);
		registered = 0;
	} else if (sched_getaffinity(0, sizeof(all), &all) || !CPU_ISSET(0, &all) || !CPU_ISSET(1, &all)) {
		skip("cpus 0 and 1 are not both available");
		registered = 0;
	}
	if (!registered) {
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	test_msg("rseq area %p, __rseq_offset %td, __rseq_size %u\n", (void *)rseq_area(), __rseq_offset, __rseq_size);
	e_before = reregister_errno();
	if (e_before == 0) {
		pr_err("registering glibc's rseq area again succeeded: it was not registered\n");
		return 1;
	}
	if (pin_and_check(0, 0) || pin_and_check(1, 0))
		return 1;
	if (sched_setaffinity(0, sizeof(all), &all)) {
		pr_perror("sched_setaffinity(all)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Before the area is trusted: the registration itself */
	e_after = reregister_errno();
	if (e_after != e_before) {
		fail("re-registering the rseq area gives errno %d, before C/R it gave %d (0 = it was not registered)",
		     e_after, e_before);
		return 1;
	}
	if (pin_and_check(0, 1) || pin_and_check(1, 1) || pin_and_check(0, 1))
		return 1;

	pass();
	return 0;
}
