#include <pthread.h>
#include <sys/eventfd.h>

#include "zdtmtst.h"

const char *test_doc = "Two threads blocked in read() on an eventfd in semaphore mode during C/R: after C/R the "
		       "main thread writes 2 and each reader gets 1; a third eventfd with counter 5 written by a "
		       "thread before the dump reads 5";
const char *test_author = "Stasis developers";

static int sem, plain, started;

static void *reader(void *arg)
{
	eventfd_t v = 0;

	/* glibc starts a thread with every signal blocked and sets its mask before calling us */
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	if (eventfd_read(sem, &v))
		return (void *)-1L;
	return (void *)(long)v;
}

static void *writer(void *arg)
{
	return (void *)(long)eventfd_write(plain, 5);
}

int main(int argc, char **argv)
{
	pthread_t r[2], w;
	void *res[2], *wres;
	eventfd_t v;
	int i;

	test_init(argc, argv);

	sem = eventfd(0, EFD_SEMAPHORE);
	plain = eventfd(0, EFD_NONBLOCK);
	if (sem < 0 || plain < 0)
		return pr_perror("eventfd");
	for (i = 0; i < 2; i++)
		if (pthread_create(&r[i], NULL, reader, NULL))
			return pr_perror("pthread_create");
	if (pthread_create(&w, NULL, writer, NULL) || pthread_join(w, &wres) || wres)
		return pr_perror("writer thread");
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 2)
		usleep(1000);

	test_daemon();
	test_waitsig();

	if (eventfd_write(sem, 2))
		return pr_perror("eventfd_write");
	for (i = 0; i < 2; i++)
		if (pthread_join(r[i], &res[i]))
			return pr_perror("pthread_join");
	if (res[0] != (void *)1L || res[1] != (void *)1L) {
		fail("the readers got %ld and %ld after C/R, expected 1 and 1", (long)res[0], (long)res[1]);
		return 1;
	}
	if (eventfd_read(plain, &v) || v != 5) {
		fail("the eventfd a thread wrote 5 to reads %llu after C/R", (unsigned long long)v);
		return 1;
	}
	pass();
	return 0;
}
