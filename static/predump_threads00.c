#include <pthread.h>
#include <sys/mman.h>

#include "zdtmtst.h"
#include "predump_mem.h"

const char *test_doc = "Threads that keep writing their own pages (with a ledger each) while the tree is pre-dumped "
		       "and dumped: after C/R every page holds the generation its ledger says (one in flight per "
		       "thread), none an older one from a parent image";
const char *test_author = "Stasis developers";

#define NR_THREADS 4
#define PAGES 256

static struct pm_region regs[NR_THREADS];
static volatile int stop;
static int started;

static void *writer(void *arg)
{
	struct pm_region *r = arg;
	uint32_t seed = 0x1234567 + r->id * 7919;
	long n = 0;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);

	while (!stop) {
		int page = pm_rand(&seed) % r->pages;

		pm_fill(r, page, r->ledger[page] + 1);
		if (++n % 16 == 0)
			usleep(200);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];
	char why[256];
	int i, j, ret = 0;

	test_init(argc, argv);
	for (i = 0; i < NR_THREADS; i++) {
		struct pm_region *r = &regs[i];

		r->id = i;
		r->pages = PAGES;
		r->base = mmap(NULL, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r->ledger = calloc(PAGES, sizeof(uint32_t));
		if (r->base == MAP_FAILED || !r->ledger) {
			pr_perror("mmap/calloc");
			return 1;
		}
		for (j = 0; j < PAGES; j++)
			pm_fill(r, j, 1);
	}
	for (i = 0; i < NR_THREADS; i++)
		if ((errno = pthread_create(&th[i], NULL, writer, &regs[i]))) {
			pr_perror("pthread_create");
			return 1;
		}

	/* every thread in its loop (glibc starts a thread with all signals blocked) before the state is seen */
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NR_THREADS)
		usleep(1000);
	test_daemon();
	test_waitsig();

	stop = 1;
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NR_THREADS; i++) {
		int ahead = 0;

		why[0] = 0;
		if (pm_check(&regs[i], &ahead, why, sizeof(why)) || ahead > 1) {
			fail("thread %d: %s (%d pages ahead of the ledger)", i,
			     why[0] ? why : "more than one page in flight", ahead);
			ret = 1;
			break;
		}
	}
	if (!ret)
		pass();
	return ret;
}
