/*
 * Bench target: a process tree or a many-threaded process that waits.
 *   treetarget procs N  - the root forks N-1 children (a flat tree), each touching 1 MiB of its own
 *                         memory and 1 MiB inherited copy-on-write from the root
 *   treetarget threads N - one process with N threads (the leader included)
 * It writes "ready" to stdout once everything exists, then every task waits.
 * On SIGUSR1 the root checks every child is alive and prints "ok N".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MIB (1 << 20)

static pid_t *kids;
static int nkids;
static volatile sig_atomic_t check;

static void on_usr1(int s) { (void)s; check = 1; }

static void *idle(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 100;
	char *cow = malloc(MIB);

	memset(cow, 0x5a, MIB);
	signal(SIGUSR1, on_usr1);
	if (argc > 1 && !strcmp(argv[1], "threads")) {
		for (int i = 1; i < n; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, idle, NULL))
				return 1;
		}
		nkids = 0;
	} else {
		kids = calloc(n, sizeof(*kids));
		for (int i = 1; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				char *own = malloc(MIB);
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				memset(own, i & 0xff, MIB);
				for (;;)
					pause();
			}
			kids[nkids++] = p;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pause();
		if (check) {
			int alive = 0;
			check = 0;
			for (int i = 0; i < nkids; i++)
				alive += kill(kids[i], 0) == 0;
			printf("ok %d\n", alive + 1);
			fflush(stdout);
		}
	}
}
