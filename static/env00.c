#include <stdlib.h>
#include <string.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the environment (a variable set by the test and the whole environ array) survives C/R";
const char *test_author = "Stasis developers";

static char *envname;
TEST_OPTION(envname, string, "name of the environment variable to set", 1);

extern char **environ;

#define ENV_VALUE "stasis env00 value: spaces, = signs and \xc3\xa9 bytes"

int main(int argc, char **argv)
{
	char **saved;
	const char *val;
	int n, i;

	test_init(argc, argv);

	if (setenv(envname, ENV_VALUE, 1)) {
		pr_perror("setenv(%s)", envname);
		return 1;
	}

	for (n = 0; environ[n]; n++)
		;
	saved = calloc(n + 1, sizeof(*saved));
	if (!saved) {
		pr_perror("calloc");
		return 1;
	}
	for (i = 0; i < n; i++) {
		saved[i] = strdup(environ[i]);
		if (!saved[i]) {
			pr_perror("strdup");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	val = getenv(envname);
	if (!val) {
		fail("%s is not set any more", envname);
		return 1;
	}
	if (strcmp(val, ENV_VALUE)) {
		fail("%s is '%s', expected '%s'", envname, val, ENV_VALUE);
		return 1;
	}

	for (i = 0; i < n && environ[i]; i++) {
		if (strcmp(environ[i], saved[i])) {
			fail("environ[%d] is '%s', was '%s'", i, environ[i], saved[i]);
			return 1;
		}
	}
	if (i != n || environ[n]) {
		fail("environ had %d entries, now it has a different number", n);
		return 1;
	}

	pass();
	return 0;
}
