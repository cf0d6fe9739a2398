#include "lab/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 20

static void interrupt_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void proc_block_signals(void)
{
	sigset_t set;
	interrupt_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static bool honour_interrupts = true;

void proc_honour_interrupts(bool on)
{
	honour_interrupts = on;
}

bool proc_interrupted(void)
{
	static bool seen;
	sigset_t set;
	struct timespec zero = {0};
	interrupt_set(&set);
	if (!seen && sigtimedwait(&set, NULL, &zero) > 0)
		seen = true;
	return seen && honour_interrupts;
}

/* In the child: a private mount namespace with an empty, inaccessible
 * tmpfs over hide, so that the child cannot see what is there (a unix
 * socket included). */
static void hide_path(const char *hide)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("edgelab-hidden", hide, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "size=4k,mode=000")) {
		fprintf(stderr, "edgelab lab: hiding %s: %s\n", hide, strerror(errno));
		_exit(126);
	}
}

static void child_exec(const char *netns, const char *hide, char *const argv[],
                       const char *log_path)
{
	sigset_t set;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (netns) {
		char path[256];
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "edgelab lab: entering namespace %s: %s\n", netns,
			        strerror(errno));
			_exit(126);
		}
		close(fd);
	}
	if (hide)
		hide_path(hide);
	if (log_path) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
	}
	execvp(argv[0], argv);
	fprintf(stderr, "edgelab lab: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int proc_spawn(const char *netns, char *const argv[], const char *log_path, pid_t *pidp)
{
	return proc_spawn_hiding(netns, NULL, argv, log_path, pidp);
}

int proc_spawn_hiding(const char *netns, const char *hide, char *const argv[], const char *log_path,
                      pid_t *pidp)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		child_exec(netns, hide, argv, log_path);
	*pidp = pid;
	return 0;
}

int proc_wait(pid_t pid, unsigned timeout_ms, int *status)
{
	for (unsigned waited = 0;; waited += POLL_MS) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return errno;
		if (proc_interrupted())
			return EINTR;
		if (waited >= timeout_ms) {
			proc_stop(pid, 0);
			return ETIMEDOUT;
		}
		nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
	}
}

bool proc_exited(pid_t pid, int *status)
{
	int st;
	if (waitpid(pid, &st, WNOHANG) != pid)
		return false;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

void proc_stop(pid_t pid, unsigned grace_ms)
{
	int st;
	if (pid <= 0 || waitpid(pid, &st, WNOHANG) == pid)
		return;
	kill(pid, SIGTERM);
	for (unsigned waited = 0; waited < grace_ms; waited += POLL_MS) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

int proc_run(const char *netns, char *const argv[], const char *log_path, char *err, size_t err_len)
{
	pid_t pid = -1;
	int status = 0;
	int rc = proc_spawn(netns, argv, log_path, &pid);
	if (!rc)
		rc = proc_wait(pid, 10000, &status);
	if (rc == EINTR)
		proc_stop(pid, 1000);
	if (!rc && status)
		rc = status == 127 ? ENOENT : EIO;
	if (rc) {
		size_t len = (size_t)snprintf(err, err_len, "`");
		for (int i = 0; argv[i] && len < err_len; i++)
			len += (size_t)snprintf(err + len, err_len - len, "%s%s", i ? " " : "",
			                        argv[i]);
		if (len < err_len)
			snprintf(err + len, err_len - len, "`%s%s: %s", netns ? " in " : "",
			         netns ? netns : "",
			         rc == EIO      ? "failed"
			         : rc == ENOENT ? "not found"
			         : rc == EINTR  ? "interrupted"
			                        : strerror(rc));
	}
	return rc;
}
