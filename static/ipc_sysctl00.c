#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "zdtmtst.h"

const char *test_doc = "The SysV IPC sysctls of the test's own IPC namespace (kernel.sem, msgmax, msgmnb, "
		       "msgmni, shmmax, shmall, shmmni, shm_rmid_forced) set to values of its own: after C/R "
		       "they read the same";
const char *test_author = "Stasis developers";

static const struct {
	const char *name, *value;
} ctls[] = {
	{ "kernel/sem", "251 32001 33 129" },
	{ "kernel/msgmax", "12345" },
	{ "kernel/msgmnb", "23456" },
	{ "kernel/msgmni", "345" },
	{ "kernel/shmmax", "45678901" },
	{ "kernel/shmall", "5678901" },
	{ "kernel/shmmni", "678" },
	{ "kernel/shm_rmid_forced", "1" },
};

/* what the kernel prints, words joined by single spaces */
static int get(const char *name, char *buf, size_t size)
{
	char path[128], raw[256], *w, *save;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(raw, sizeof(raw), f)) {
		if (f)
			fclose(f);
		return pr_perror("read %s", path);
	}
	fclose(f);
	buf[0] = 0;
	for (w = strtok_r(raw, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (buf[0])
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, w, size - strlen(buf) - 1);
	}
	return 0;
}

static int set(const char *name, const char *value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f))
		return pr_perror("write %s", path);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[256];
	unsigned i;

	test_init(argc, argv);

	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		if (set(ctls[i].name, ctls[i].value) || get(ctls[i].name, buf, sizeof(buf)))
			return 1;
		if (strcmp(buf, ctls[i].value)) {
			pr_err("%s reads \"%s\" right after writing \"%s\"\n", ctls[i].name, buf, ctls[i].value);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		if (get(ctls[i].name, buf, sizeof(buf)))
			return 1;
		if (strcmp(buf, ctls[i].value)) {
			errno = 0;
			fail("%s is \"%s\" after C/R, was \"%s\"", ctls[i].name, buf, ctls[i].value);
			return 1;
		}
	}
	pass();
	return 0;
}
