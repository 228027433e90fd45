#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "zdtmtst.h"
#include "ns_join.h"

const char *test_doc = "Restored with --join-ns for uts, ipc, net and time at once (each a namespace the "
		       "harness made, with its mark): after C/R the test is in all four and sees each mark, in "
		       "flavor ns together with new pid and mount namespaces";
const char *test_author = "Stasis developers";

#define DAY 86400LL

static int read_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long long mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int main(int argc, char **argv)
{
	static const char *kinds[] = { "uts", "ipc", "net", "time" };
	int i, where[4], msgmax0, ttl0, msgmax, ttl;
	struct utsname u0, u;
	long long t0, dt;
	ino_t ino[4];

	test_init(argc, argv);

	for (i = 0; i < 4; i++)
		if (ns_ino(kinds[i], &ino[i]))
			return 1;
	if (uname(&u0))
		return pr_perror("uname");
	msgmax0 = read_int("/proc/sys/kernel/msgmax");
	ttl0 = read_int("/proc/sys/net/ipv4/ip_default_ttl");
	t0 = mono();

	test_daemon();
	test_waitsig();

	for (i = 0; i < 4; i++) {
		where[i] = where_now(kinds[i], ino[i]);
		if (where[i] < 0)
			return 1;
		if (where[i] != where[0]) {
			errno = 0;
			fail("in the joined %s namespace but not in the %s one", where[i] ? kinds[i] : kinds[0],
			     where[i] ? kinds[0] : kinds[i]);
			return 1;
		}
	}
	if (uname(&u))
		return pr_perror("uname");
	msgmax = read_int("/proc/sys/kernel/msgmax");
	ttl = read_int("/proc/sys/net/ipv4/ip_default_ttl");
	dt = mono() - t0;
	if (where[0]) {
		if (strcmp(u.nodename, "zdtm-joined") || msgmax != 4321 || ttl != 93 || dt < 900 * DAY) {
			errno = 0;
			fail("the joined namespaces' marks: host \"%s\" msgmax %d ttl %d clock +%lld s", u.nodename,
			     msgmax, ttl, dt);
			return 1;
		}
	} else if (strcmp(u.nodename, u0.nodename) || msgmax != msgmax0 || ttl != ttl0 || dt > DAY) {
		errno = 0;
		fail("without --join-ns: host \"%s\" msgmax %d ttl %d clock +%lld s", u.nodename, msgmax, ttl, dt);
		return 1;
	}
	pass();
	return 0;
}
