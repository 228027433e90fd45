#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Several threads with distinct TLS values, blocked signal masks, names and sigaltstacks: "
		       "each thread checks its own after C/R (and its TID)";
const char *test_author = "Stasis developers";

#define NR_THREADS 5 /* plus the main thread, index 0 */
#define ALTSTACK_SIZE (64 * 1024)

static __thread volatile uint64_t tls_val;
static __thread volatile char tls_buf[64];

struct th {
	pthread_t t;
	pid_t tid;
	sigset_t mask;
	char name[16];
	char *altstack;
	int verdict; /* 1 pass, 2 fail */
	char why[160];
};

static struct th ths[NR_THREADS + 1];
static futex_t ready, go, done;

static int setup(int i)
{
	struct th *t = &ths[i];
	stack_t ss;
	int s;

	t->tid = syscall(SYS_gettid);
	tls_val = 0x1000000000ULL * (i + 1) + 0x5a5a + i;
	snprintf((char *)tls_buf, sizeof(tls_buf), "tls of thread %d", i);

	sigemptyset(&t->mask);
	sigaddset(&t->mask, SIGRTMIN + i);
	sigaddset(&t->mask, SIGRTMIN + 10 + 2 * i);
	if (i & 1)
		sigaddset(&t->mask, SIGUSR1);
	else
		sigaddset(&t->mask, SIGUSR2);
	if (i == 0) /* the main thread keeps SIGTERM open for the harness */
		sigdelset(&t->mask, SIGTERM);
	if ((s = pthread_sigmask(SIG_SETMASK, &t->mask, NULL))) {
		errno = s;
		return pr_perror("pthread_sigmask");
	}

	snprintf(t->name, sizeof(t->name), "zdtm-thr%d", i);
	if ((s = pthread_setname_np(pthread_self(), t->name))) {
		errno = s;
		return pr_perror("pthread_setname_np");
	}

	t->altstack = malloc(ALTSTACK_SIZE + i * 4096);
	if (!t->altstack)
		return pr_perror("malloc");
	ss.ss_sp = t->altstack;
	ss.ss_size = ALTSTACK_SIZE + i * 4096;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		return pr_perror("sigaltstack");
	return 0;
}

static void check(int i)
{
	struct th *t = &ths[i];
	char name[32] = "", path[64], expect_buf[64], why[160];
	sigset_t mask;
	stack_t ss;
	pid_t tid = syscall(SYS_gettid);
	FILE *f;
	int sig;

#define BAD(fmt, ...)                                                                \
	do {                                                                         \
		snprintf(why, sizeof(why), fmt, ##__VA_ARGS__);                      \
		memcpy(t->why, why, sizeof(why));                                    \
		t->verdict = 2;                                                      \
		return;                                                              \
	} while (0)

	if (tid != t->tid)
		BAD("tid %d, expected %d", tid, t->tid);
	if (tls_val != 0x1000000000ULL * (i + 1) + 0x5a5a + i)
		BAD("TLS value %#llx", (unsigned long long)tls_val);
	snprintf(expect_buf, sizeof(expect_buf), "tls of thread %d", i);
	if (strcmp((char *)tls_buf, expect_buf))
		BAD("TLS buffer '%.60s'", (char *)tls_buf);

	if (pthread_sigmask(SIG_BLOCK, NULL, &mask))
		BAD("pthread_sigmask failed");
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33)
			continue;
		if (sigismember(&mask, sig) != sigismember(&t->mask, sig))
			BAD("signal %d: blocked %d, expected %d", sig, sigismember(&mask, sig),
			    sigismember(&t->mask, sig));
	}

	if (prctl(PR_GET_NAME, name, 0, 0, 0) || strcmp(name, t->name))
		BAD("name '%s', expected '%s'", name, t->name);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	f = fopen(path, "r");
	if (!f || !fgets(name, sizeof(name), f))
		BAD("can't read %s", path);
	fclose(f);
	name[strcspn(name, "\n")] = 0;
	if (strcmp(name, t->name))
		BAD("comm '%s', expected '%s'", name, t->name);

	if (sigaltstack(NULL, &ss))
		BAD("sigaltstack failed");
	if (ss.ss_sp != t->altstack || ss.ss_size != (size_t)(ALTSTACK_SIZE + i * 4096) || ss.ss_flags != 0)
		BAD("sigaltstack %p/%zu/%#x, expected %p/%d/0", ss.ss_sp, ss.ss_size, ss.ss_flags, t->altstack,
		    ALTSTACK_SIZE + i * 4096);
	t->verdict = 1;
#undef BAD
}

static void *thread_fn(void *arg)
{
	int i = (long)arg;

	if (setup(i)) {
		ths[i].verdict = 2;
		snprintf(ths[i].why, sizeof(ths[i].why), "setup failed");
	}
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	if (ths[i].verdict != 2)
		check(i);
	futex_inc_and_wake(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	int i, failed = 0;

	test_init(argc, argv);

	if (setup(0))
		return 1;
	for (i = 1; i <= NR_THREADS; i++) {
		if (pthread_create(&ths[i].t, NULL, thread_fn, (void *)(long)i)) {
			pr_err("pthread_create\n");
			return 1;
		}
	}
	futex_wait_until(&ready, NR_THREADS);
	for (i = 1; i <= NR_THREADS; i++)
		if (ths[i].verdict == 2) {
			pr_err("thread %d: %s\n", i, ths[i].why);
			return 1;
		}

	test_daemon();
	test_waitsig();

	check(0);
	futex_set_and_wake(&go, 1);
	for (i = 1; i <= NR_THREADS; i++)
		pthread_join(ths[i].t, NULL);
	for (i = 0; i <= NR_THREADS; i++) {
		if (ths[i].verdict != 1) {
			fail("thread %d (tid %d): %s", i, ths[i].tid, ths[i].why);
			failed = 1;
		}
	}
	if (failed)
		return 1;
	pass();
	return 0;
}
