#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "zdtmtst.h"

const char *test_doc = "The host and domain names the test sets in its own UTS namespace (longest host name "
		       "the kernel takes): after C/R uname() and /proc/sys/kernel/{hostname,domainname} show them";
const char *test_author = "Stasis developers";

/* 64 characters: __NEW_UTS_LEN */
#define HOST "h123456789-123456789-123456789-123456789-123456789-123456789-abc"
#define DOMAIN "zdtm.uts-names00.example"

static int read_sysctl(const char *name, char *buf, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	f = fopen(path, "r");
	if (!f)
		return pr_perror("open %s", path);
	if (!fgets(buf, size, f)) {
		fclose(f);
		return pr_perror("read %s", path);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char host[128], domain[128];
	struct utsname u;

	test_init(argc, argv);

	if (sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
		pr_perror("sethostname/setdomainname");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (uname(&u)) {
		fail("uname");
		return 1;
	}
	if (strcmp(u.nodename, HOST) || strcmp(u.domainname, DOMAIN)) {
		errno = 0;
		fail("uname after C/R: \"%s\" \"%s\", expected \"%s\" \"%s\"", u.nodename, u.domainname, HOST, DOMAIN);
		return 1;
	}
	if (read_sysctl("hostname", host, sizeof(host)) || read_sysctl("domainname", domain, sizeof(domain)))
		return 1;
	if (strcmp(host, HOST) || strcmp(domain, DOMAIN)) {
		errno = 0;
		fail("sysctls after C/R: \"%s\" \"%s\"", host, domain);
		return 1;
	}
	pass();
	return 0;
}
