/* --name=value option parsing for TEST_OPTION()s; any mistake prints usage and exits 1. */
#include "zdtmtst.h"

static struct long_opt *opt_head;

const char *test_doc __attribute__((weak));
const char *test_author __attribute__((weak));

static int help;
TEST_OPTION(help, bool, "print help message and exit", 0);

/* Called from constructors, so before main() and single-threaded. */
void __push_opt(struct long_opt *opt)
{
	opt->next = opt_head;
	opt_head = opt;
}

int parse_opt_bool(char *param, void *arg)
{
	/* A bare --name means true. */
	if (!param || !strcmp(param, "on") || !strcmp(param, "yes") || !strcmp(param, "true")) {
		*(int *)arg = 1;
		return 0;
	}
	if (!strcmp(param, "off") || !strcmp(param, "no") || !strcmp(param, "false")) {
		*(int *)arg = 0;
		return 0;
	}
	return -EINVAL;
}

/* Parse a whole-string number (base 0: decimal, 0x…, 0…) */
#define PARSE_NUMBER(fn, type, conv)                       \
	int fn(char *param, void *arg)                     \
	{                                                  \
		char *end;                                 \
		type v;                                    \
		if (!param || !*param)                     \
			return -EINVAL;                    \
		errno = 0;                                 \
		v = (type)conv(param, &end, 0);            \
		if (*end || errno)                         \
			return -EINVAL;                    \
		*(type *)arg = v;                          \
		return 0;                                  \
	}

PARSE_NUMBER(parse_opt_int, int, strtol)
PARSE_NUMBER(parse_opt_uint, unsigned int, strtoul)
PARSE_NUMBER(parse_opt_long, long, strtol)
PARSE_NUMBER(parse_opt_ulong, unsigned long, strtoul)

int parse_opt_string(char *param, void *arg)
{
	if (!param || !*param)
		return -EINVAL;
	*(char **)arg = param;
	return 0;
}

static void usage_exit(void)
{
	struct long_opt *opt;

	fputs("Usage:\n", stderr);
	for (opt = opt_head; opt; opt = opt->next) {
		int optional = !opt->is_required;

		fprintf(stderr, "  %s--%s=%s%s\t%s\n", optional ? "[" : "", opt->name, opt->type,
			optional ? "]" : "", opt->doc);
	}
	exit(1);
}

static struct long_opt *find_opt(const char *name, size_t len)
{
	struct long_opt *opt;

	for (opt = opt_head; opt; opt = opt->next)
		if (strlen(opt->name) == len && !strncmp(opt->name, name, len))
			return opt;
	return NULL;
}

void parseargs(int argc, char **argv)
{
	struct long_opt *opt;
	int i;

	for (i = 1; i < argc; i++) {
		char *name, *value;
		size_t len;

		if (strncmp(argv[i], "--", 2) || !argv[i][2]) {
			fprintf(stderr, "%s: options should start with --\n", argv[i]);
			usage_exit();
		}
		name = argv[i] + 2;
		value = strchr(name, '=');
		len = value ? (size_t)(value - name) : strlen(name);
		if (value)
			value++;

		opt = find_opt(name, len);
		if (!opt) {
			fprintf(stderr, "%s: unknown option\n", argv[i]);
			usage_exit();
		}
		if (opt->parse_opt(value, opt->value)) {
			fprintf(stderr, "%s: failed to parse\n", argv[i]);
			usage_exit();
		}
		/* A negative value marks a required option as given (usage still shows it as required). */
		if (opt->is_required > 0)
			opt->is_required = -opt->is_required;
	}

	if (help) {
		if (test_doc)
			fprintf(stderr, "%s\n", test_doc);
		if (test_author)
			fprintf(stderr, "Author: %s\n", test_author);
		usage_exit();
	}

	for (opt = opt_head; opt; opt = opt->next)
		if (opt->is_required > 0) {
			fprintf(stderr, "mandatory flag --%s not given\n", opt->name);
			usage_exit();
		}
}
