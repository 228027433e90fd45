/* Filesystem helpers. */
#include "zdtmtst.h"

/*
 * Return (malloc'ed) the cwd, after checking that this uid can still search it:
 * tests that reopen files by absolute path after C/R need every component +x.
 */
int get_cwd_check_perm(char **result)
{
	char *cwd;

	*result = NULL;
	cwd = get_current_dir_name();
	if (!cwd) {
		pr_perror("failed to get current directory");
		return -1;
	}
	if (access(cwd, X_OK)) {
		pr_err("access check for bit X for current dir path '%s' failed for uid:%d,gid:%d, error: %d(%s). "
		       "Bit 'x' should be set in all path components of this directory\n",
		       cwd, (int)getuid(), (int)getgid(), errno, strerror(errno));
		free(cwd);
		return -1;
	}
	*result = cwd;
	return 0;
}
