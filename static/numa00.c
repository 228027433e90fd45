#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Check that NUMA memory policies survive C/R: the task's (MPOL_PREFERRED), a second thread's "
		       "(MPOL_BIND) and one VMA's (MPOL_INTERLEAVE), all on node 0";
const char *test_author = "Stasis developers";

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_F_ADDR (1 << 1)

#define MAXNODE 1024
#define MASK_LONGS (MAXNODE / (8 * sizeof(unsigned long)))
#define NPAGES 4

struct pol {
	int mode;
	unsigned long mask[MASK_LONGS];
};

static futex_t ready, go, done;
static int thread_verdict; /* 1 pass, 2 fail */
static char thread_why[256];
static struct pol thread_before;

static long get_pol(struct pol *p, void *addr)
{
	memset(p, 0, sizeof(*p));
	return syscall(SYS_get_mempolicy, &p->mode, p->mask, MAXNODE, addr, addr ? MPOL_F_ADDR : 0);
}

static int same(const struct pol *a, const struct pol *b)
{
	return a->mode == b->mode && !memcmp(a->mask, b->mask, sizeof(a->mask));
}

static void *thread_fn(void *arg)
{
	unsigned long node0 = 1;
	struct pol now;

	if (syscall(SYS_set_mempolicy, MPOL_BIND, &node0, 64) || get_pol(&thread_before, NULL)) {
		snprintf(thread_why, sizeof(thread_why), "set/get_mempolicy(MPOL_BIND) in the thread: %m");
		thread_verdict = 2;
	}
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	if (thread_verdict != 2) {
		if (get_pol(&now, NULL)) {
			snprintf(thread_why, sizeof(thread_why), "get_mempolicy in the thread: %m");
			thread_verdict = 2;
		} else if (!same(&now, &thread_before)) {
			snprintf(thread_why, sizeof(thread_why), "thread policy mode %d mask %#lx, was mode %d mask %#lx",
				 now.mode, now.mask[0], thread_before.mode, thread_before.mask[0]);
			thread_verdict = 2;
		} else {
			thread_verdict = 1;
		}
	}
	futex_inc_and_wake(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	struct pol task_before, vma_before, now;
	unsigned long node0 = 1;
	pthread_t t;
	uint8_t *area;

	test_init(argc, argv);

	if (get_pol(&now, NULL)) {
		if (errno == ENOSYS) {
			skip("no NUMA support in the kernel");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("get_mempolicy");
		return 1;
	}
	if (syscall(SYS_set_mempolicy, MPOL_PREFERRED, &node0, 64)) {
		pr_perror("set_mempolicy(MPOL_PREFERRED)");
		return 1;
	}
	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	if (syscall(SYS_mbind, area, NPAGES * PAGE_SIZE, MPOL_INTERLEAVE, &node0, 64, 0)) {
		pr_perror("mbind(MPOL_INTERLEAVE)");
		return 1;
	}
	memset(area, 0x3c, NPAGES * PAGE_SIZE);
	if (get_pol(&task_before, NULL) || get_pol(&vma_before, area)) {
		pr_perror("get_mempolicy");
		return 1;
	}
	if (task_before.mode != MPOL_PREFERRED || task_before.mask[0] != 1 || vma_before.mode != MPOL_INTERLEAVE ||
	    vma_before.mask[0] != 1) {
		pr_err("policies after setting: task mode %d mask %#lx, vma mode %d mask %#lx\n", task_before.mode,
		       task_before.mask[0], vma_before.mode, vma_before.mask[0]);
		return 1;
	}
	if (pthread_create(&t, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (thread_verdict == 2) {
		pr_err("%s\n", thread_why);
		return 1;
	}
	if (thread_before.mode != MPOL_BIND || thread_before.mask[0] != 1) {
		pr_err("thread policy mode %d mask %#lx after setting MPOL_BIND\n", thread_before.mode,
		       thread_before.mask[0]);
		return 1;
	}

	test_daemon();
	test_waitsig();

	futex_set_and_wake(&go, 1);
	pthread_join(t, NULL);
	if (get_pol(&now, NULL)) {
		fail("get_mempolicy");
		return 1;
	}
	if (!same(&now, &task_before)) {
		fail("task policy mode %d mask %#lx, was mode %d mask %#lx", now.mode, now.mask[0], task_before.mode,
		     task_before.mask[0]);
		return 1;
	}
	if (get_pol(&now, area + PAGE_SIZE)) {
		fail("get_mempolicy(MPOL_F_ADDR)");
		return 1;
	}
	if (!same(&now, &vma_before)) {
		fail("VMA policy mode %d mask %#lx, was mode %d mask %#lx", now.mode, now.mask[0], vma_before.mode,
		     vma_before.mask[0]);
		return 1;
	}
	if (thread_verdict != 1) {
		fail("%s", thread_why);
		return 1;
	}
	if (area[0] != 0x3c || area[NPAGES * PAGE_SIZE - 1] != 0x3c) {
		fail("data of the interleaved region changed");
		return 1;
	}
	pass();
	return 0;
}
