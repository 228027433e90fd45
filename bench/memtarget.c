/*
 * Benchmark target for bench/memory.py: maps N MiB of private anonymous memory, writes a
 * non-zero, position-dependent pattern into every 8-byte word (so every page is touched and no
 * two pages are alike), prints "ready ADDR SIZE SUM" on stdout and waits.
 *
 * On SIGUSR1 it regenerates the pattern and compares it word by word with the memory, then
 * prints "verify ok SUM" or "verify BAD MISMATCHES FIRST_OFFSET SUM". SIGTERM ends it.
 * The stdout is expected to be a file (no buffering games: every line is one write(2)).
 *
 * Build: gcc -O2 -o memtarget memtarget.c
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t want_verify;

static void on_usr1(int sig) { (void)sig; want_verify = 1; }

/* splitmix64: a cheap bijective mixer; "| 1" makes every word non-zero. */
static inline uint64_t pattern(uint64_t i)
{
	uint64_t z = i * 0x9E3779B97F4A7C15ull + 0xD1B54A32D192ED03ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (z ^ (z >> 31)) | 1;
}

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

int main(int argc, char **argv)
{
	if (argc != 2) {
		say("usage: memtarget MIB\n");
		return 2;
	}
	size_t size = (size_t)strtoull(argv[1], NULL, 10) << 20;
	size_t words = size / 8;
	uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		say("mmap failed\n");
		return 1;
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < words; i++) {
		mem[i] = pattern(i);
		sum += mem[i] * (i | 1);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);

	char line[160];
	snprintf(line, sizeof(line), "ready %p %zu %016llx\n", (void *)mem, size, (unsigned long long)sum);
	say(line);
	for (;;) {
		while (!want_verify)
			sigsuspend(&old);  /* atomically unblock SIGUSR1 and wait: no lost wake-up */
		want_verify = 0;
		size_t bad = 0, first = (size_t)-1;
		uint64_t got = 0;
		for (size_t i = 0; i < words; i++) {
			uint64_t w = mem[i];
			got += w * (i | 1);
			if (w != pattern(i)) {
				if (!bad)
					first = i * 8;
				bad++;
			}
		}
		if (bad || got != sum)
			snprintf(line, sizeof(line), "verify BAD %zu %#zx %016llx\n", bad, first,
				 (unsigned long long)got);
		else
			snprintf(line, sizeof(line), "verify ok %016llx\n", (unsigned long long)got);
		say(line);
	}
}
