/*
 * Shared by the ns_join_*00 programs: restored with --join-ns KIND:{join:KIND} (criu's option), they end
 * up in a namespace the harness made (zdtm/joinns.py), which it names in the file joined.KIND of the work
 * dir (the namespace's inode). Without that file (--nocr) the program must still be where it started.
 */
#include <stdio.h>
#include <sys/stat.h>

static int ns_ino(const char *kind, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

/* The namespace the harness restored the test into: its inode, 0 when there was none (no C/R). */
static ino_t joined_ino(const char *kind)
{
	unsigned long ino = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "joined.%s", kind);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &ino) != 1)
		ino = 0;
	fclose(f);
	return ino;
}

/* After test_waitsig(): in the joined namespace (1), where it started (0), or neither (-1, failed). */
static int where_now(const char *kind, ino_t before)
{
	ino_t now, joined = joined_ino(kind);

	if (ns_ino(kind, &now))
		return -1;
	if (joined) {
		if (now != joined) {
			errno = 0;
			fail("restored with --join-ns %s into namespace %lu, but in %lu (it was in %lu)", kind,
			     (unsigned long)joined, (unsigned long)now, (unsigned long)before);
			return -1;
		}
		/* not compared with `before`: that namespace died with the dumped tree, and its number may have
		 * been reused (the harness makes the namespace to join while the tree it replaces still lives) */
		return 1;
	}
	if (now != before) {
		errno = 0;
		fail("no --join-ns, yet the %s namespace changed: %lu -> %lu", kind, (unsigned long)before,
		     (unsigned long)now);
		return -1;
	}
	return 0;
}
