#include <sys/utsname.h>

#include "mnt_util.h"

const char *test_doc = "Host and domain names of the test's UTS namespace at the kernel's limit of 64 bytes "
		       "made of multi-byte UTF-8 characters, spaces and punctuation (the kernel takes any bytes; "
		       "both names are strings in criu's image): after C/R uname() shows them byte for byte";
const char *test_author = "Stasis developers";

/* 64 bytes each: 21 three-byte characters and one more byte, and an ASCII mix */
#define HOST "\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83" \
	     "\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83" \
	     "\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83x"
#define DOMAIN "a domain, with spaces: and (punctuation) ; 0123456789 !#$%&*+/=?"

int main(int argc, char **argv)
{
	struct utsname u;

	test_init(argc, argv);

	if (strlen(HOST) != 64 || strlen(DOMAIN) != 64) {
		pr_err("names of %zu and %zu bytes\n", strlen(HOST), strlen(DOMAIN));
		return 1;
	}
	if (sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
		pr_perror("sethostname/setdomainname");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (uname(&u) || strcmp(u.nodename, HOST) || strcmp(u.domainname, DOMAIN)) {
		fail("uname after C/R: \"%s\" \"%s\"", u.nodename, u.domainname);
		return 1;
	}
	pass();
	return 0;
}
