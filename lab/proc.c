#include "lab/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS        20
#define RUN_TIMEOUT_MS 10000 /* proc_run's bound on one command */

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

/* A status a shell gives a process ended by SIGINT, SIGTERM or SIGHUP. */
static bool interrupt_status(int status)
{
	return status == 128 + SIGINT || status == 128 + SIGTERM || status == 128 + SIGHUP;
}

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

/* How a child starts: in which namespace, with what hidden, where its
 * output goes (a log file appended to, or a pipe's write end), and whether
 * it leaves the caller's session (a lab's edge, which outlives `lab up`). */
struct spawn {
	const char *netns, *hide, *log_path;
	int out_fd; /* -1: none */
	bool detach;
};

static void child_exec(const struct spawn *sp, char *const argv[])
{
	sigset_t set;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (sp->netns) {
		char path[256];
		snprintf(path, sizeof(path), "/run/netns/%s", sp->netns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "edgelab lab: entering namespace %s: %s\n", sp->netns,
			        strerror(errno));
			_exit(126);
		}
		close(fd);
	}
	if (sp->hide)
		hide_path(sp->hide);
	int out = sp->out_fd;
	if (sp->log_path)
		out = open(sp->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (out >= 0) {
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	}
	if (sp->detach) {
		/* Nothing of the caller's: not its terminal, its directory, nor
		 * any descriptor it had open (a test harness's lock or pipe). */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		setsid();
		if (chdir("/"))
			_exit(126);
		close_range(3, ~0U, 0);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "edgelab lab: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int spawn(const struct spawn *sp, char *const argv[], pid_t *pidp)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		child_exec(sp, argv);
	*pidp = pid;
	return 0;
}

int proc_spawn(const char *netns, char *const argv[], const char *log_path, pid_t *pidp)
{
	return spawn(&(struct spawn){.netns = netns, .log_path = log_path, .out_fd = -1}, argv,
	             pidp);
}

int proc_spawn_hiding(const char *netns, const char *hide, char *const argv[], const char *log_path,
                      pid_t *pidp)
{
	struct spawn sp = {.netns = netns, .hide = hide, .log_path = log_path, .out_fd = -1};
	return spawn(&sp, argv, pidp);
}

int proc_spawn_detached(const char *netns, char *const argv[], const char *log_path, pid_t *pidp)
{
	struct spawn sp = {.netns = netns, .log_path = log_path, .out_fd = -1, .detach = true};
	return spawn(&sp, argv, pidp);
}

int proc_wait(pid_t pid, unsigned timeout_ms, int *status)
{
	for (unsigned waited = 0;; waited += POLL_MS) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			/* The terminal's Ctrl-C reaches the child too: a child that
			 * ended by it while ours is pending was interrupted, not failed. */
			if (interrupt_status(*status) && proc_interrupted())
				return EINTR;
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

/* "`ip netns add x` failed" and the like. */
static void run_error(const char *netns, char *const argv[], int rc, char *err, size_t err_len)
{
	size_t len = (size_t)snprintf(err, err_len, "`");
	for (int i = 0; argv[i] && len < err_len; i++)
		len += (size_t)snprintf(err + len, err_len - len, "%s%s", i ? " " : "", argv[i]);
	if (len < err_len)
		snprintf(err + len, err_len - len, "`%s%s: %s", netns ? " in " : "",
		         netns ? netns : "",
		         rc == EIO      ? "failed"
		         : rc == ENOENT ? "not found"
		         : rc == EINTR  ? "interrupted"
		                        : strerror(rc));
}

/* A finished run's outcome: 0, or why not. */
static int run_result(int rc, int status)
{
	if (!rc && status)
		rc = status == 127 ? ENOENT : EIO;
	return rc;
}

int proc_run(const char *netns, char *const argv[], const char *log_path, char *err, size_t err_len)
{
	pid_t pid = -1;
	int status = 0;
	int rc = proc_spawn(netns, argv, log_path, &pid);
	if (!rc)
		rc = proc_wait(pid, RUN_TIMEOUT_MS, &status);
	if (rc == EINTR)
		proc_stop(pid, 1000);
	rc = run_result(rc, status);
	if (rc)
		run_error(netns, argv, rc, err, err_len);
	return rc;
}

/* Reads the child's output until it closes the pipe or the time is up;
 * what does not fit in out is read and dropped, so that the child never
 * blocks on a full pipe. */
static void read_output(int fd, char *out, size_t out_len, unsigned timeout_ms)
{
	size_t used = 0;
	char sink[512];
	for (unsigned waited = 0; waited < timeout_ms; waited += POLL_MS) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, POLL_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		char *to = used + 1 < out_len ? out + used : sink;
		size_t room = used + 1 < out_len ? out_len - 1 - used : sizeof(sink);
		ssize_t got = read(fd, to, room);
		if (got <= 0)
			break;
		if (to != sink)
			used += (size_t)got;
	}
	if (out_len)
		out[used] = '\0';
}

int proc_run_capture(const char *netns, char *const argv[], char *out, size_t out_len, char *err,
                     size_t err_len)
{
	int fds[2];
	pid_t pid = -1;
	int status = 0;
	if (out_len)
		out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, err_len, "pipe: %s", strerror(errno));
		return errno;
	}
	struct spawn sp = {.netns = netns, .out_fd = fds[1]};
	int rc = spawn(&sp, argv, &pid);
	close(fds[1]);
	if (!rc) {
		read_output(fds[0], out, out_len, RUN_TIMEOUT_MS);
		rc = proc_wait(pid, RUN_TIMEOUT_MS, &status);
	}
	close(fds[0]);
	if (rc == EINTR)
		proc_stop(pid, 1000);
	rc = run_result(rc, status);
	if (rc)
		run_error(netns, argv, rc, err, err_len);
	return rc;
}

unsigned long long proc_start_time(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: count
	 * from the last ')'. Field 22 is the start time, 20 fields on. */
	char *p = strrchr(buf, ')');
	/* Field 3, the state: a zombie has exited, whoever is to reap it. */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}
