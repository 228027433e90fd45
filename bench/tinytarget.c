/*
 * Benchmark target for bench/tiny.py: the smallest useful process. One page of private anonymous
 * memory holds a counter and a token; it prints "ready TOKEN" on stdout and waits in sigsuspend.
 *
 * On SIGUSR1 it bumps the counter in its page and prints "alive N TOKEN" (N counts the SIGUSR1s
 * received over its whole life, restores included). SIGTERM ends it.
 * The stdout is expected to be a file (every line is one write(2)).
 *
 * Build: gcc -O2 -o tinytarget tinytarget.c
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct page {
	unsigned long count;
	unsigned long token;
};

static volatile sig_atomic_t want_report;

static void on_usr1(int sig) { (void)sig; want_report = 1; }

static void say(const char *line)
{
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t n = write(1, line + off, len - off);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

int main(void)
{
	long psize = sysconf(_SC_PAGESIZE);
	struct page *p = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[96];
	struct sigaction sa;
	sigset_t block, old;

	if (p == MAP_FAILED) {
		say("mmap failed\n");
		return 1;
	}
	p->token = ((unsigned long)getpid() << 20) ^ 0x5ca1ab1eul;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);

	snprintf(line, sizeof(line), "ready %lx\n", p->token);
	say(line);
	for (;;) {
		while (!want_report)
			sigsuspend(&old);  /* atomically unblock SIGUSR1 and wait: no lost wake-up */
		want_report = 0;
		p->count++;
		snprintf(line, sizeof(line), "alive %lu %lx\n", p->count, p->token);
		say(line);
	}
}
