/* lab/proc: what the lab's probe can see. proc_spawn_hiding must leave the
 * rest of the filesystem as it is and make the hidden directory empty and
 * unreadable for the child (a unix socket in it included), and nothing of
 * that may leak back to the parent. Needs root (a mount namespace); skips
 * otherwise. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/proc.h"

struct fixture {
	char dir[64];     /* the hidden one */
	char file[96];    /* a file in it */
	char sock[96];    /* a listening unix socket in it */
	char visible[96]; /* a file beside it, not hidden */
	int sock_fd;
};

static int setup(void **state)
{
	static struct fixture f;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(f.dir, sizeof(f.dir), "/tmp/edgelab-proc-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.file, sizeof(f.file), "%s/edge.key", f.dir);
	snprintf(f.sock, sizeof(f.sock), "%s/control.sock", f.dir);
	snprintf(f.visible, sizeof(f.visible), "%s.visible", f.dir);
	FILE *a = fopen(f.file, "w"), *b = fopen(f.visible, "w");
	if (!a || !b)
		return -1;
	fclose(a);
	fclose(b);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f.sock);
	f.sock_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (f.sock_fd < 0 || bind(f.sock_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(f.sock_fd, 1))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->sock_fd);
	unlink(f->sock);
	unlink(f->file);
	unlink(f->visible);
	rmdir(f->dir);
	return 0;
}

/* The exit status of argv run by proc_spawn_hiding (hide may be NULL). */
static int run(const char *hide, char *const argv[])
{
	pid_t pid;
	int status = -1;
	assert_int_equal(proc_spawn_hiding(NULL, hide, argv, NULL, &pid), 0);
	assert_int_equal(proc_wait(pid, 10000, &status), 0);
	return status;
}

static void hidden_dir_is_empty_for_the_child(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		skip();
	/* Without hiding the child sees the file and can connect. */
	assert_int_equal(run(NULL, (char *const[]){"test", "-e", f->file, NULL}), 0);
	assert_int_equal(run(NULL, (char *const[]){"test", "-S", f->sock, NULL}), 0);
	/* Hidden: neither the file nor the socket is there for it... */
	assert_int_equal(run(f->dir, (char *const[]){"test", "-e", f->file, NULL}), 1);
	assert_int_equal(run(f->dir, (char *const[]){"test", "-e", f->sock, NULL}), 1);
	/* ...while the rest of the filesystem is. */
	assert_int_equal(run(f->dir, (char *const[]){"test", "-e", f->visible, NULL}), 0);
}

static void hiding_does_not_leak_to_the_parent(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	if (geteuid() != 0)
		skip();
	assert_int_equal(run(f->dir, (char *const[]){"true", NULL}), 0);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hidden_dir_is_empty_for_the_child),
	    cmocka_unit_test(hiding_does_not_leak_to_the_parent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
