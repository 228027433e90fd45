#include <pthread.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Threads created and joined continuously while being dumped: each computes a known result "
		       "and checks its fresh TLS; the main thread checks every result";
const char *test_author = "Stasis developers";

#define BATCH 4

static __thread uint64_t tls_acc;	/* must start at 0 in every new thread */
static __thread int tls_init = 77;	/* must start at 77 in every new thread */

struct job {
	uint64_t seq;
	uint64_t result;
	pid_t tid;
	int bad;
};

static uint64_t compute(uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ULL, k;

	for (k = 0; k < 200 + seq % 300; k++)
		h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL + k;
	return h;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t k, h = j->seq * 0x9e3779b97f4a7c15ULL;

	if (tls_acc != 0 || tls_init != 77)
		j->bad = 1;
	tls_init = 0;
	for (k = 0; k < 200 + j->seq % 300; k++) {
		h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL + k;
		tls_acc++;
	}
	if (tls_acc != k)
		j->bad = 2;
	j->tid = syscall(SYS_gettid);
	j->result = h;
	return j;
}

int main(int argc, char **argv)
{
	struct job jobs[BATCH];
	pthread_t th[BATCH];
	uint64_t seq = 0, done = 0;
	pid_t self;
	int i, ret;

	test_init(argc, argv);
	self = syscall(SYS_gettid);
	test_daemon();

	while (test_go()) {
		for (i = 0; i < BATCH; i++) {
			memset(&jobs[i], 0, sizeof(jobs[i]));
			jobs[i].seq = seq++;
			ret = pthread_create(&th[i], NULL, worker, &jobs[i]);
			if (ret) {
				errno = ret;
				fail("pthread_create #%llu", (unsigned long long)jobs[i].seq);
				return 1;
			}
		}
		for (i = 0; i < BATCH; i++) {
			void *r = NULL;

			ret = pthread_join(th[i], &r);
			if (ret || r != &jobs[i]) {
				errno = ret;
				fail("pthread_join #%llu: %p", (unsigned long long)jobs[i].seq, r);
				return 1;
			}
			if (jobs[i].bad || jobs[i].result != compute(jobs[i].seq) || jobs[i].tid <= 0 ||
			    jobs[i].tid == self) {
				fail("thread #%llu: bad %d result %#llx tid %d", (unsigned long long)jobs[i].seq,
				     jobs[i].bad, (unsigned long long)jobs[i].result, jobs[i].tid);
				return 1;
			}
			done++;
		}
	}
	if (syscall(SYS_gettid) != self || getpid() != self) {
		fail("the main thread's tid changed");
		return 1;
	}
	test_msg("%llu threads created and joined\n", (unsigned long long)done);
	if (!done) {
		fail("no thread ran");
		return 1;
	}
	pass();
	return 0;
}
