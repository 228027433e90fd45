#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "zdtmtst.h"

const char *test_doc = "Sysctls of the test's own network namespace (net.unix.max_dgram_qlen, net.ipv4."
		       "ip_default_ttl, ip_local_port_range, ping_group_range, ip_unprivileged_port_start, "
		       "net.core.somaxconn) set to values of their own: after C/R they read the same";
const char *test_author = "Stasis developers";

static const struct {
	const char *name, *value;
} ctls[] = {
	{ "net/unix/max_dgram_qlen", "37" },
	{ "net/ipv4/ip_default_ttl", "99" },
	{ "net/ipv4/ip_local_port_range", "40000 50000" },
	{ "net/ipv4/ping_group_range", "0 0" },
	{ "net/ipv4/ip_unprivileged_port_start", "555" },
	{ "net/core/somaxconn", "1111" },
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
